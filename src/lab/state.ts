/**
 * Where labs live on the machine and how a new one gets its number. A lab's number is taken
 * by mkdir of its state directory (atomic), after checking that its subnet meets none of the
 * machine's routes and no link or netns of that name is left over, so two labs never collide.
 */
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { LAB_ID_PATTERN, LIMITS, ipv4Overlaps, labId, labSubnet } from './plan.js';
import type { LabState } from './types.js';

export function stateRoot(): string {
  return process.env.HACTL_LAB_STATE_DIR ?? '/var/lib/hactl/labs';
}

export function stateDirOf(id: string): string {
  return join(stateRoot(), id);
}

/** The machine's IPv4 route destinations, except default routes. */
export async function machineRoutes(): Promise<string[]> {
  const { stdout } = await execa('ip', ['-4', '-j', 'route', 'show', 'table', 'all']);
  const routes = JSON.parse(stdout || '[]') as { dst?: string; type?: string }[];
  return routes
    .map((r) => r.dst ?? '')
    .filter(
      (dst) => dst !== '' && dst !== 'default' && /^\d+\.\d+\.\d+\.\d+(\/\d+)?$/.test(dst) && !dst.startsWith('127.'),
    );
}

async function namesInUse(): Promise<Set<string>> {
  const links = JSON.parse((await execa('ip', ['-j', 'link', 'show'])).stdout || '[]') as { ifname: string }[];
  let netns: string[] = [];
  try {
    netns = await readdir('/run/netns');
  } catch {
    /* no netns yet */
  }
  return new Set([...links.map((l) => l.ifname), ...netns]);
}

/** Takes the lowest free lab number and creates its state directory. */
export async function allocateLab(): Promise<{ index: number; id: string; stateDir: string }> {
  await mkdir(stateRoot(), { recursive: true, mode: 0o700 });
  const routes = await machineRoutes();
  const names = [...(await namesInUse())];
  for (let index = LIMITS.index.min; index <= LIMITS.index.max; index++) {
    const id = labId(index);
    const subnet = labSubnet(index);
    if (routes.some((r) => ipv4Overlaps(r, subnet))) continue;
    if (names.some((n) => n.startsWith(`${id}-`))) continue;
    const stateDir = stateDirOf(id);
    try {
      await mkdir(stateDir, { mode: 0o700 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw err;
    }
    return { index, id, stateDir };
  }
  throw new Error(
    `no free lab subnet: every ${labSubnet(0).replace('.0.0/24', '.N.0/24')} meets a route or another lab (hactl lab status; hactl lab down --all)`,
  );
}

export async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o644 });
  await rename(tmp, file);
}

export async function readLabState(file: string): Promise<LabState> {
  const state = JSON.parse(await readFile(file, 'utf8')) as LabState;
  if (state.version !== 1 || !LAB_ID_PATTERN.test(state.id)) throw new Error(`${file} is not a hactl lab.json`);
  return state;
}

/** Lab ids with a state directory, lowest number first. */
export async function labIdsOnDisk(): Promise<string[]> {
  let entries: string[] = [];
  try {
    entries = await readdir(stateRoot());
  } catch {
    return [];
  }
  return entries.filter((e) => LAB_ID_PATTERN.test(e)).sort((a, b) => Number(a.slice(5)) - Number(b.slice(5)));
}

export async function readLabById(id: string): Promise<LabState | undefined> {
  try {
    return await readLabState(join(stateDirOf(id), 'lab.json'));
  } catch {
    return undefined;
  }
}

/** Field 22 of /proc/PID/stat: tells a live process from a later one that reused its pid. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    if (fields[0] === 'Z' || fields[0] === 'X') return undefined;
    return fields[19];
  } catch {
    return undefined;
  }
}

export function isAlive(pid: number, startTime?: string): boolean {
  const now = processStartTime(pid);
  return now !== undefined && (startTime === undefined || now === startTime);
}
