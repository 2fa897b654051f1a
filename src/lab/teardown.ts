/**
 * Removing a lab completely, and proving it: kill every process of its hosts, delete its
 * veths, netns and bridge, remove its state directory and the files it wrote, then scan the
 * machine for anything left with its name (processes, netns, links, mounts, directories).
 */
import { existsSync } from 'node:fs';
import { readFile, readdir, readlink, rm, rmdir, stat, unlink } from 'node:fs/promises';
import { removeLabTls } from './tls.js';
import { waitFor } from '../util/wait-for.js';
import { LAB_NAME_PATTERN } from './plan.js';
import { deleteSegment, listLinks, listNetns } from './network.js';
import { stateDirOf, stateRoot } from './state.js';
import type { LabState } from './types.js';

export interface Leftovers {
  processes: { pid: number; cmd: string }[];
  netns: string[];
  links: string[];
  mounts: string[];
  dirs: string[];
}

export function isEmpty(l: Leftovers): boolean {
  return Object.values(l).every((v: unknown[]) => v.length === 0);
}

export function describeLeftovers(l: Leftovers): string {
  const parts: string[] = [];
  if (l.processes.length)
    parts.push(`processes ${l.processes.map((p) => `${p.pid} (${p.cmd.slice(0, 60)})`).join(', ')}`);
  for (const key of ['netns', 'links', 'mounts', 'dirs'] as const)
    if (l[key].length) parts.push(`${key} ${l[key].join(', ')}`);
  return parts.join('; ');
}

/** Lab ids that have a netns or link on this machine (hactl<n>-...). */
export async function labIdsInKernel(): Promise<string[]> {
  const names = [...(await listNetns()), ...(await listLinks())];
  return [
    ...new Set(
      names
        .map((n) => n.match(LAB_NAME_PATTERN))
        .filter((m) => m !== null)
        .map((m) => `hactl${m[1]}`),
    ),
  ];
}

async function netnsInodes(ids: string[]): Promise<Set<number>> {
  const names = (await listNetns()).filter((n) => ids.some((id) => n.startsWith(`${id}-`)));
  const inodes = await Promise.all(
    names.map((n) =>
      stat(`/run/netns/${n}`).then(
        (s) => s.ino,
        () => 0,
      ),
    ),
  );
  return new Set(inodes.filter((i) => i > 0));
}

/** Live processes of these labs: in one of their netns, chrooted under their state dir, or started with it. */
export async function labProcesses(ids: string[]): Promise<{ pid: number; cmd: string }[]> {
  const inodes = await netnsInodes(ids);
  const marks = ids.flatMap((id) => [`${stateDirOf(id)}/`, `/run/netns/${id}-`]);
  const found: { pid: number; cmd: string }[] = [];
  for (const entry of await readdir('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      const st = await readFile(`/proc/${pid}/stat`, 'utf8');
      if (/^[ZX]/.test(st.slice(st.lastIndexOf(')') + 2))) continue;
      const cmd = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').join(' ').trim();
      const root = await readlink(`/proc/${pid}/root`).catch(() => '');
      const net = Number((await readlink(`/proc/${pid}/ns/net`).catch(() => '')).replace(/\D/g, '') || 0);
      if (inodes.has(net) || marks.some((m) => cmd.includes(m) || `${root}/`.startsWith(m))) found.push({ pid, cmd });
    } catch {
      /* exited while we looked */
    }
  }
  return found;
}

export async function scanLeftovers(ids: string[], extraDirs: string[] = []): Promise<Leftovers> {
  const mine = (n: string) => ids.some((id) => n.startsWith(`${id}-`));
  const mountinfo = await readFile('/proc/self/mountinfo', 'utf8');
  const marks = ids.flatMap((id) => [`${stateDirOf(id)}`, `/run/netns/${id}-`]);
  return {
    processes: await labProcesses(ids),
    netns: (await listNetns()).filter(mine),
    links: (await listLinks()).filter(mine),
    mounts: mountinfo.split('\n').filter((l) => marks.some((m) => l.includes(m))),
    dirs: [...ids.map(stateDirOf), ...extraDirs].filter((d) => existsSync(d)),
  };
}

/** Removes the files `lab up` wrote to outDir, and outDir itself when lab up created it. */
async function removeOutputs(state: LabState): Promise<void> {
  try {
    const there = JSON.parse(await readFile(state.files.labJson, 'utf8')) as { id?: string; stateDir?: string };
    if (there.id !== state.id || there.stateDir !== state.stateDir) return; // a newer lab owns the directory now
  } catch {
    /* lab.json already gone: the other files are still ours */
  }
  const { inventory, identity, knownHosts, labJson } = state.files;
  await Promise.all(
    [inventory, identity, `${identity}.pub`, knownHosts, labJson].map((f) => unlink(f).catch(() => undefined)),
  );
  if (state.files.tls) await removeLabTls(state.files.tls);
  if (state.outDirCreated) await rmdir(state.outDir).catch(() => undefined);
}

/** Tears down lab `id` (state from lab.json when known) and throws if anything of it is left. */
export async function teardownLab(id: string, state?: LabState): Promise<void> {
  const ids = [id];
  // SIGKILLed processes can take long to be reaped on a loaded machine: wait generously, and
  // remove links, netns and files even if some linger, so a slow exit never leaves the rest.
  const lingering = await waitFor(
    async () => {
      const procs = await labProcesses(ids);
      for (const p of procs) {
        try {
          process.kill(p.pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
      return procs.length === 0;
    },
    { timeoutMs: 60_000, intervalMs: 100, what: `the processes of lab ${id} to exit` },
  ).then(
    () => false,
    () => true,
  );
  await waitFor(
    async () => {
      await deleteSegment(id);
      const left = [...(await listNetns()), ...(await listLinks())].filter((n) => n.startsWith(`${id}-`));
      if (left.length > 0) throw new Error(`still there: ${left.join(', ')}`);
      return true;
    },
    { timeoutMs: 15_000, intervalMs: 200, what: `the netns and links of lab ${id} to go` },
  );
  const dir = stateDirOf(id);
  if (!dir.startsWith(stateRoot())) throw new Error(`refusing to remove ${dir}`);
  await rm(dir, { recursive: true, force: true });
  if (state) await removeOutputs(state);
  if (lingering) {
    await waitFor(async () => (await labProcesses(ids)).length === 0, {
      timeoutMs: 30_000,
      intervalMs: 200,
      what: `the processes of lab ${id} to exit`,
    });
  }
  const left = await scanLeftovers(ids);
  if (!isEmpty(left)) throw new Error(`lab ${id} was not removed completely: ${describeLeftovers(left)}`);
}
