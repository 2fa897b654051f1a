/**
 * The lab API behind `hactl lab up|down|status` and the e2e tests: up() builds a lab and
 * writes its files, down()/downAll() remove labs and prove nothing is left, status() lists them.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import pLimit from 'p-limit';
import { checkPrereqs, formatPrereqProblems, installPrereqs } from './prereqs.js';
import { planLab } from './plan.js';
import { createSegment } from './network.js';
import { commonFiles, hostFiles, writeHostFiles } from './host-files.js';
import { bootHost, hostDirs, prepareHostDirs } from './host.js';
import { inventoryYaml, knownHosts, labInventory, randomVrrpPass } from './inventory-writer.js';
import {
  allocateLab,
  isAlive,
  labIdsOnDisk,
  processStartTime,
  readLabById,
  readLabState,
  stateDirOf,
  writeJsonAtomic,
} from './state.js';
import { labIdsInKernel, teardownLab } from './teardown.js';
import type { LabOptions, LabState } from './types.js';

export const DEFAULT_OPTIONS = { clusters: 1, lbs: 2, backends: 3, dualMaster: false, outDir: '.lab' };

export class LabError extends Error {
  override name = 'LabError';
}

const ms = (since: number) => Math.round(performance.now() - since);

async function ensurePrereqs(opts: LabOptions): Promise<void> {
  let report = await checkPrereqs();
  if (!report.ok && opts.installDeps && report.blockers.length === 0) {
    await installPrereqs(report, opts.onProgress);
    report = await checkPrereqs();
  }
  if (!report.ok) throw new LabError(`hactl lab cannot run here:\n${formatPrereqProblems(report)}`);
}

export async function up(opts: LabOptions): Promise<LabState> {
  const t0 = performance.now();
  const progress = opts.onProgress ?? (() => {});
  await ensurePrereqs(opts);
  const outDir = resolve(opts.outDir);
  const files = {
    inventory: join(outDir, 'inventory.yaml'),
    identity: join(outDir, 'id_ed25519'),
    knownHosts: join(outDir, 'known_hosts'),
    labJson: join(outDir, 'lab.json'),
  };
  if (existsSync(files.labJson)) {
    throw new LabError(
      `${outDir} already holds a lab (${files.labJson}): run hactl lab down --dir ${outDir} first, or choose another --dir`,
    );
  }
  const outDirCreated = !existsSync(outDir);
  const { index, id, stateDir } = await allocateLab();
  const plan = planLab(index, opts);
  const owner = {
    pid: process.pid,
    startTime: processStartTime(process.pid) ?? '',
    ephemeral: opts.ephemeral ?? false,
  };
  const state: LabState = {
    version: 1,
    ...plan,
    hosts: [],
    stateDir,
    outDir,
    outDirCreated,
    createdAt: new Date().toISOString(),
    owner,
    options: {
      clusters: opts.clusters,
      lbs: opts.lbs,
      backends: opts.backends,
      dualMaster: opts.dualMaster,
      hostKeys: opts.hostKeys ?? 'all',
    },
    files,
    timings: {},
  };
  try {
    await writeJsonAtomic(join(stateDir, 'lab.json'), state);
    progress(`lab ${id}: ${plan.subnet}, ${plan.hosts.length} hosts, files in ${outDir}`);
    await mkdir(outDir, { recursive: true });
    await Promise.all([unlink(files.identity), unlink(`${files.identity}.pub`)].map((p) => p.catch(() => undefined)));
    await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `hactl-lab-${id}`, '-f', files.identity]);
    const pubKey = await readFile(`${files.identity}.pub`, 'utf8');

    let t = performance.now();
    await createSegment(plan);
    state.timings.networkMs = ms(t);

    t = performance.now();
    const common = await commonFiles(plan, pubKey);
    const dirsOf = new Map(plan.hosts.map((h) => [h.name, hostDirs(stateDir, h.name)]));
    const writeLimit = pLimit(16);
    await Promise.all(
      plan.hosts.map((h) =>
        writeLimit(async () => {
          const dirs = dirsOf.get(h.name)!;
          await prepareHostDirs(dirs);
          await writeHostFiles(dirs.upper, hostFiles(plan, h, common.files));
        }),
      ),
    );
    state.timings.filesMs = ms(t);

    t = performance.now();
    const bootLimit = pLimit(opts.concurrency ?? 8);
    let booted = 0;
    state.hosts = await Promise.all(
      plan.hosts.map((h) =>
        bootLimit(async () => {
          const host = await bootHost(h, dirsOf.get(h.name)!, {
            prefix: plan.prefix,
            hostKeys: opts.hostKeys ?? 'all',
            timeoutMs: 60_000,
          });
          booted++;
          if (booted % 10 === 0 || booted === plan.hosts.length) progress(`${booted}/${plan.hosts.length} hosts up`);
          return host;
        }),
      ),
    );
    state.timings.bootMs = ms(t);

    const inv = labInventory({
      plan,
      identityFile: files.identity,
      knownHostsFile: files.knownHosts,
      vrrpPass: randomVrrpPass(),
    });
    await writeFile(files.knownHosts, knownHosts(state.hosts), { mode: 0o644 });
    await writeFile(files.inventory, inventoryYaml(inv, plan, outDir), { mode: 0o600 });
    state.timings.totalMs = ms(t0);
    await writeJsonAtomic(join(stateDir, 'lab.json'), state);
    await writeJsonAtomic(files.labJson, state);
    return state;
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    await teardownLab(id, state).catch((e: Error) =>
      progress(`cleaning up after the failure also failed: ${e.message}`),
    );
    throw new LabError(`lab up failed: ${why}`);
  }
}

/** The lab whose files are in `dir` (default ./.lab). */
export async function readLab(dir: string = DEFAULT_OPTIONS.outDir): Promise<LabState> {
  const file = join(resolve(dir), 'lab.json');
  if (!existsSync(file))
    throw new LabError(
      `no lab in ${resolve(dir)} (no lab.json); hactl lab status lists labs, hactl lab down --all removes them all`,
    );
  return readLabState(file);
}

export async function down(dir: string = DEFAULT_OPTIONS.outDir): Promise<{ removed: string[] }> {
  const state = await readLab(dir);
  await teardownLab(state.id, state);
  return { removed: [state.id] };
}

/** A lab nobody will tear down: from a test run whose process is gone, or with no state at all. */
async function isStale(id: string): Promise<boolean> {
  const state = await readLabById(id);
  if (state) return state.owner.ephemeral && !isAlive(state.owner.pid, state.owner.startTime);
  const dir = stateDirOf(id);
  if (!existsSync(dir)) return true;
  // A state dir without lab.json is either being created right now or left by a crash.
  return Date.now() - (await stat(dir)).mtimeMs > 120_000;
}

/** Removes every lab on this machine (`staleOnly`: only labs of killed test runs and orphans). */
export async function downAll(opts: { staleOnly?: boolean } = {}): Promise<{ removed: string[]; errors: string[] }> {
  const ids = [...new Set([...(await labIdsOnDisk()), ...(await labIdsInKernel())])];
  const removed: string[] = [];
  const errors: string[] = [];
  for (const id of ids) {
    if (opts.staleOnly && !(await isStale(id))) continue;
    try {
      await teardownLab(id, await readLabById(id));
      removed.push(id);
    } catch (err) {
      errors.push(err instanceof Error ? err.message : String(err));
    }
  }
  return { removed, errors };
}

export interface LabStatus {
  id: string;
  subnet?: string;
  outDir?: string;
  createdAt?: string;
  hosts: number;
  running: number;
  /** running: every host alive; degraded: some are not; orphan: links or netns without state. */
  health: 'running' | 'degraded' | 'orphan';
}

export async function status(): Promise<LabStatus[]> {
  const ids = [...new Set([...(await labIdsOnDisk()), ...(await labIdsInKernel())])];
  return Promise.all(
    ids.map(async (id) => {
      const state = await readLabById(id);
      if (!state) return { id, hosts: 0, running: 0, health: 'orphan' as const };
      const running = state.hosts.filter((h) => isAlive(h.pid) && existsSync(`/run/netns/${h.netns}`)).length;
      return {
        id,
        subnet: state.subnet,
        outDir: state.outDir,
        createdAt: state.createdAt,
        hosts: state.hosts.length,
        running,
        health: running === state.hosts.length && running > 0 ? ('running' as const) : ('degraded' as const),
      };
    }),
  );
}
