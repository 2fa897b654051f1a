/**
 * Driving `hactl deploy` from e2e tests the way an operator does (the built CLI, no terminal),
 * and reading what it did to a host: file hashes and inode times, service pids, the VRRP
 * settings keepalived is actually running with.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa, type ResultPromise } from 'execa';
import { parse, stringify } from 'yaml';
import { sh } from '../../../src/shell/quote.js';
import { PATHS } from '../../../src/render/render.js';
import { hostExec, findHost } from '../../../src/lab/exec.js';
import type { LabState } from '../../../src/lab/types.js';
import { waitFor } from '../../../src/util/wait-for.js';
import { httpGet, is2xx } from '../../../src/util/http.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const BIN = join(ROOT, 'bin', 'run.js');

export interface CliResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  ms: number;
}

/**
 * The probe key (cli/probe-key.ts) of this test run, so a deploy without a VRRP password makes
 * it here and never in the machine's own ~/.config/hactl.
 */
let configDir: string | undefined;
const configDirOf = () => (configDir ??= mkdtempSync(join(tmpdir(), 'hactl-e2e-config-')));

// Every test file that uses these helpers gets its temp dirs removed after its last test (a
// process 'exit' handler never ran under jest: each file left one behind).
afterAll(() => {
  if (configDir) rmSync(configDir, { recursive: true, force: true });
  configDir = undefined;
  removeScratch();
});

/** The file where the CLI runs of this test file remember hosts' programs. */
export const programsCacheOf = () => join(configDirOf(), 'cache', 'programs.json');

/** The CLI's environment: no colour, no agent, no terminal (stdin is not a TTY). */
function cliEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    ...(process.env as Record<string, string>),
    NO_COLOR: '1',
    SSH_AUTH_SOCK: '',
    HACTL_CONFIG_DIR: configDirOf(),
    // What hactl remembers of hosts (known-programs.ts) starts empty in every test file.
    HACTL_CACHE_DIR: join(programsCacheOf(), '..'),
    ...extra,
  };
}

/** Starts `hactl <args>` in the background; await the promise for the result. */
export function startHactl(args: string[], timeoutMs = 120_000): ResultPromise<{ reject: false }> {
  return execa('node', [BIN, ...args], {
    reject: false,
    timeout: timeoutMs,
    env: cliEnv(),
    stdin: 'ignore',
    cwd: ROOT,
    extendEnv: false,
  }) as ResultPromise<{ reject: false }>;
}

export async function hactl(args: string[], timeoutMs = 120_000): Promise<CliResult> {
  const t0 = performance.now();
  const r = await startHactl(args, timeoutMs);
  return {
    exitCode: r.exitCode ?? -1,
    stdout: String(r.stdout),
    stderr: String(r.stderr),
    ms: Math.round(performance.now() - t0),
  };
}

/** `hactl deploy -i <inventory> ...flags`. */
export const deployCli = (inventory: string, ...flags: string[]) =>
  hactl(['deploy', '--inventory', inventory, ...flags]);

/** The --json result, with a readable failure when stdout is not JSON. */
export function jsonOf(r: CliResult): DeployJson {
  try {
    return JSON.parse(r.stdout) as DeployJson;
  } catch {
    throw new Error(`not JSON (exit ${r.exitCode}):\n${r.stdout}\n--- stderr ---\n${r.stderr}`);
  }
}

export interface DeployJsonHost {
  host: string;
  cluster: string;
  status: string;
  summary: string;
  filesChanged: string[];
  packagesInstalled: string[];
  servicesReloaded: string[];
  servicesStarted: string[];
  timings: Record<string, number>;
  roundTrips: number;
  error: string | null;
  staleLock: string | null;
}

export interface DeployJson {
  ok: boolean;
  dryRun: boolean;
  phase: string;
  message: string;
  aborted: boolean;
  durationMs: number;
  hosts: DeployJsonHost[];
  plans: { host: string; changed: boolean; summary: string; files: { path: string; action: string; diff: string }[] }[];
  checks: { kind: string; target: string; ok: boolean; detail: string }[];
}

export const hostOf = (j: DeployJson, name: string): DeployJsonHost => {
  const h = j.hosts.find((x) => x.host === name);
  if (!h) throw new Error(`no host ${name} in ${JSON.stringify(j.hosts.map((x) => x.host))}`);
  return h;
};

/* eslint-disable @typescript-eslint/no-explicit-any */
export type InventoryDoc = any;

let scratch: string | undefined;

/** A directory for this test file's inventories and known_hosts copies (`lab down` removes only what it wrote). */
export function scratchDir(): string {
  scratch ??= mkdtempSync(join(tmpdir(), 'hactl-e2e-deploy-'));
  return scratch;
}

/** Call in afterAll. */
export function removeScratch(): void {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
  scratch = undefined;
}

/** Writes a variant of the lab's inventory to the scratch directory and returns its path. */
export function inventoryVariant(lab: LabState, tag: string, change: (doc: InventoryDoc) => void): string {
  const doc = parse(readFileSync(lab.files.inventory, 'utf8'));
  change(doc);
  const path = join(scratchDir(), `inventory-${tag}.yaml`);
  writeFileSync(path, stringify(doc));
  return path;
}

/** Every file deploy manages on a load balancer of `cluster` at the lab's health check (mode script: the alive script too). */
export function managedFiles(cluster: string): string[] {
  return [
    PATHS.keepalivedConf,
    PATHS.notifyScript,
    PATHS.checkScript,
    PATHS.aliveScript,
    PATHS.nginxConf(cluster),
    PATHS.sysctl,
  ];
}

export interface FileState {
  /** sha256, or "absent". */
  sha: string;
  /** inode, mtime and ctime with nanoseconds: any write, rename or chmod changes one. */
  stamp: string;
  mode: string;
}

export interface HostSnapshot {
  files: Record<string, FileState>;
  keepalived: number[];
  nginxMaster: number | undefined;
  nginxWorkers: number[];
  backups: string[];
}

/** One nsenter round trip: hashes and stamps of the managed files, service pids, backup dirs. */
export async function snapshot(lab: LabState, name: string, files: string[]): Promise<HostSnapshot> {
  const script = [
    `for f in ${files.map((f) => sh([f])).join(' ')}; do if [ -f "$f" ]; then echo "F $f $(sha256sum < "$f" | cut -c1-64) $(stat -c '%i:%.9Y:%.9Z %a:%U:%G' "$f")"; else echo "F $f absent - -"; fi; done`,
    'echo "K $(pgrep -x keepalived | tr "\\n" " ")"',
    'm=$(cat /run/nginx.pid 2>/dev/null); if [ -n "$m" ] && kill -0 "$m" 2>/dev/null; then echo "M $m"; echo "W $(pgrep -P "$m" | tr "\\n" " ")"; fi',
    'echo "B $(ls -1 /var/lib/hactl/backups 2>/dev/null | tr "\\n" " ")"',
  ].join('\n');
  const r = await hostExec(findHost(lab, name), script);
  const snap: HostSnapshot = { files: {}, keepalived: [], nginxMaster: undefined, nginxWorkers: [], backups: [] };
  const nums = (s: string) =>
    s
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number)
      .sort((a, b) => a - b);
  for (const line of r.stdout.split('\n')) {
    const [tag, ...rest] = line.split(' ');
    if (tag === 'F') snap.files[rest[0]] = { sha: rest[1], stamp: rest[2], mode: rest[3] };
    else if (tag === 'K') snap.keepalived = nums(rest.join(' '));
    else if (tag === 'M') snap.nginxMaster = Number(rest[0]);
    else if (tag === 'W') snap.nginxWorkers = nums(rest.join(' '));
    else if (tag === 'B') snap.backups = rest.join(' ').trim().split(/\s+/).filter(Boolean);
  }
  return snap;
}

export async function snapshots(
  lab: LabState,
  names: string[],
  files: string[],
): Promise<Record<string, HostSnapshot>> {
  const all = await Promise.all(names.map((n) => snapshot(lab, n, files)));
  return Object.fromEntries(names.map((n, i) => [n, all[i]]));
}

export const hashes = (s: HostSnapshot) => Object.fromEntries(Object.entries(s.files).map(([p, f]) => [p, f.sha]));

/** Waits until nginx on `name` runs a set of workers disjoint from `old` (a reload replaced them). */
export async function waitForNewWorkers(
  lab: LabState,
  name: string,
  files: string[],
  old: number[],
): Promise<number[]> {
  return waitFor(
    async () => {
      const s = await snapshot(lab, name, files);
      return s.nginxWorkers.length > 0 && s.nginxWorkers.every((p) => !old.includes(p)) ? s.nginxWorkers : undefined;
    },
    { timeoutMs: 15_000, intervalMs: 200, what: `new nginx workers on ${name} (old: ${old.join(' ')})` },
  );
}

export interface RunningVrrp {
  priority: number;
  advertInt: string;
}

/**
 * What keepalived is running with, not what its file says: SIGUSR1 makes it dump its live
 * configuration to /tmp/keepalived.data (the host's own /tmp).
 */
export async function runningVrrp(lab: LabState, name: string): Promise<RunningVrrp> {
  const host = findHost(lab, name);
  await hostExec(host, 'rm -f /tmp/keepalived.data && kill -USR1 "$(cat /run/keepalived.pid)"');
  let previous = '';
  return waitFor(
    async () => {
      const r = await hostExec(host, 'cat /tmp/keepalived.data 2>/dev/null || true');
      const text = r.stdout;
      const stable = text !== '' && text === previous;
      previous = text;
      const priority = text.match(/^ {3}Priority = (\d+)$/m)?.[1];
      const advert = text.match(/^ {3}Advert interval = (.+)$/m)?.[1];
      return stable && priority && advert ? { priority: Number(priority), advertInt: advert } : undefined;
    },
    { timeoutMs: 10_000, intervalMs: 150, what: `keepalived's data dump on ${name}` },
  );
}

/** GET through the VIP until every backend in `want` has answered or `max` requests were made. */
export async function backendsThroughVip(
  ip: string,
  host: string,
  path: string,
  want: string[],
  max = 40,
): Promise<{ seen: Set<string>; bodies: string[]; failures: string[] }> {
  const seen = new Set<string>();
  const bodies: string[] = [];
  const failures: string[] = [];
  for (let i = 0; i < max && !want.every((w) => seen.has(w)); i++) {
    const r = await httpGet({ ip, port: 80, host, path, timeoutMs: 3000 });
    if (!is2xx(r)) {
      failures.push(`${r.status || r.error}`);
      continue;
    }
    bodies.push(r.body);
    const b = r.body.match(/^backend=(\S+) /)?.[1];
    if (b) seen.add(b);
  }
  return { seen, bodies, failures };
}
