/**
 * The lab API behind `hactl lab up|down|status` and the e2e tests: up() builds a lab and
 * writes its files, down()/downAll() remove labs and prove nothing is left, status() lists them.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import pLimit from 'p-limit';
import { HactlError, RefusedError } from '../errors.js';
import { checkPrereqs, formatPrereqProblems, installPrereqs } from './prereqs.js';
import { planLab } from './plan.js';
import { createSegment } from './network.js';
import { commonFiles, hostFiles, writeHostFiles } from './host-files.js';
import { bootHost, hostDirs, prepareHostDirs } from './host.js';
import { inventoryYaml, knownHosts, labInventory, randomVrrpPass, withPrefixNginx } from './inventory-writer.js';
import { imageName } from './image-plan.js';
import { writeLabTls } from './tls.js';
import { prepareImages } from './lab-images.js';
import { DEFAULT_OS } from './releases.js';
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
import type { HostState, LabOptions, LabPlan, LabState } from './types.js';

export const DEFAULT_OPTIONS = { clusters: 1, lbs: 2, backends: 3, dualMaster: false, outDir: '.lab' };

/** A lab operation that failed (prerequisites, a host that did not boot): exit 1, message shown as is. */
export class LabError extends HactlError {
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

function labFiles(outDir: string): LabState['files'] {
  return {
    inventory: join(outDir, 'inventory.yaml'),
    identity: join(outDir, 'id_ed25519'),
    knownHosts: join(outDir, 'known_hosts'),
    labJson: join(outDir, 'lab.json'),
  };
}

function initialState(opts: LabOptions, plan: LabPlan, where: { stateDir: string; outDir: string }): LabState {
  return {
    version: 1,
    ...plan,
    hosts: [],
    stateDir: where.stateDir,
    outDir: where.outDir,
    outDirCreated: !existsSync(where.outDir),
    createdAt: new Date().toISOString(),
    owner: { pid: process.pid, startTime: processStartTime(process.pid) ?? '', ephemeral: opts.ephemeral ?? false },
    options: {
      clusters: opts.clusters,
      lbs: opts.lbs,
      backends: opts.backends,
      dualMaster: opts.dualMaster,
      hostKeys: opts.hostKeys ?? 'all',
      os: opts.os ?? DEFAULT_OS,
      packages: opts.packages ?? 'none',
      nginx: opts.nginx ?? 'package',
      ipv6: opts.ipv6 ?? false,
      ...(opts.tls ? { tls: true } : {}),
      ...(opts.privateNet ? { privateNet: true } : {}),
      ...(opts.fast ? { fast: true } : {}),
    },
    images: {},
    files: labFiles(where.outDir),
    timings: {},
  };
}

/** Each host's upper layer: account files and dotfiles from its own image, plus its lab files. */
async function writeAllHostFiles(plan: LabPlan, state: LabState, pubKey: string): Promise<void> {
  const common = new Map<string, Awaited<ReturnType<typeof commonFiles>>>();
  for (const [name, image] of Object.entries(state.images))
    common.set(name, await commonFiles(plan, pubKey, image.root));
  const writeLimit = pLimit(16);
  await Promise.all(
    plan.hosts.map((h) =>
      writeLimit(async () => {
        const name = imageName({ release: h.release, kind: h.image });
        const dirs = hostDirs(state.stateDir, h.name);
        const shared = common.get(name);
        if (!shared) throw new Error(`${h.name}: no image ${name} was prepared`);
        await prepareHostDirs(dirs);
        await writeHostFiles(dirs.upper, hostFiles(plan, h, shared.files), state.images[name].root);
      }),
    ),
  );
}

async function bootAll(plan: LabPlan, state: LabState, opts: LabOptions): Promise<HostState[]> {
  const progress = opts.onProgress ?? (() => {});
  const bootLimit = pLimit(opts.concurrency ?? 8);
  let booted = 0;
  return Promise.all(
    plan.hosts.map((h) =>
      bootLimit(async () => {
        const image = state.images[imageName({ release: h.release, kind: h.image })];
        const host = await bootHost(h, hostDirs(state.stateDir, h.name), {
          prefix: plan.prefix,
          lowerDir: image.root,
          repoDir: image.repo,
          hostKeys: opts.hostKeys ?? 'all',
          timeoutMs: 60_000,
        });
        booted++;
        if (booted % 10 === 0 || booted === plan.hosts.length) progress(`${booted}/${plan.hosts.length} hosts up`);
        return host;
      }),
    ),
  );
}

async function writeOutputs(plan: LabPlan, state: LabState, opts: LabOptions): Promise<void> {
  const { files } = state;
  if (opts.tls) files.tls = await writeLabTls(state.outDir, [plan.serverName], plan.id);
  const inv = labInventory({
    plan,
    identityFile: files.identity,
    knownHostsFile: files.knownHosts,
    vrrpPass: randomVrrpPass(),
    tls: opts.tls ?? false,
    fast: opts.fast ?? false,
  });
  await writeFile(files.knownHosts, knownHosts(state.hosts), { mode: 0o644 });
  const doc = opts.nginx === 'prefix' ? withPrefixNginx(inv) : inv;
  await writeFile(files.inventory, inventoryYaml(doc, plan, state.outDir), { mode: 0o600 });
}

export async function up(opts: LabOptions): Promise<LabState> {
  const t0 = performance.now();
  const progress = opts.onProgress ?? (() => {});
  const outDir = resolve(opts.outDir);
  const files = labFiles(outDir);
  // Refused before anything else (prerequisites included): nothing about this machine could make it right.
  if (existsSync(files.labJson)) {
    throw new RefusedError(
      `${outDir} already holds a lab (${files.labJson}): run hactl lab down --dir ${outDir} first, or choose another --dir`,
    );
  }
  await ensurePrereqs(opts);
  const { index, id, stateDir } = await allocateLab();
  const plan = planLab(index, opts);
  const state = initialState(opts, plan, { stateDir, outDir });
  let releaseImages = async () => {};
  try {
    await writeJsonAtomic(join(stateDir, 'lab.json'), state);
    let t = performance.now();
    const prepared = await prepareImages(plan, progress);
    releaseImages = prepared.release;
    state.images = prepared.images;
    state.timings.imagesMs = ms(t);
    await writeJsonAtomic(join(stateDir, 'lab.json'), state);
    progress(`lab ${id}: ${plan.subnet}, ${plan.hosts.length} hosts, files in ${outDir}`);
    await mkdir(outDir, { recursive: true });
    await Promise.all([unlink(files.identity), unlink(`${files.identity}.pub`)].map((p) => p.catch(() => undefined)));
    await execa('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', `hactl-lab-${id}`, '-f', files.identity]);
    const pubKey = await readFile(`${files.identity}.pub`, 'utf8');

    t = performance.now();
    await createSegment(plan);
    state.timings.networkMs = ms(t);
    t = performance.now();
    await writeAllHostFiles(plan, state, pubKey);
    state.timings.filesMs = ms(t);
    t = performance.now();
    state.hosts = await bootAll(plan, state, opts);
    state.timings.bootMs = ms(t);

    await writeOutputs(plan, state, opts);
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
  } finally {
    await releaseImages();
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
