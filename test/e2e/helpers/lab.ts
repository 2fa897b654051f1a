/**
 * A lab for one test file: up in beforeAll, down in afterAll (which runs even when tests
 * fail). Before starting, labs of killed test runs are removed; labs of live runs and labs an
 * operator started with `hactl lab up` are left alone. Unless a test asks otherwise, hosts run
 * debian-12 with keepalived and nginx preinstalled: most files only need a working pair, and
 * the image saves them the package install (lab-images.test.ts covers --packages none).
 */
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_OPTIONS, down, downAll, up } from '../../../src/lab/lab.js';
import { findHost } from '../../../src/lab/exec.js';
import type { HostState, LabOptions, LabState } from '../../../src/lab/types.js';

export type LabRequest = Partial<Omit<LabOptions, 'ephemeral' | 'onProgress'>> & {
  /** beforeAll's timeout; default 600 s: on a machine with no image cache, the first lab builds its images. */
  upTimeoutMs?: number;
};

export interface LabFixture {
  /** The running lab (throws when beforeAll did not bring it up). */
  readonly state: LabState;
  host(name: string): HostState;
  lbs(): HostState[];
  backends(): HostState[];
}

/** A fresh, not yet existing directory under the system temp dir (so `lab down` removes it). */
export function tempLabDir(tag = 'lab'): string {
  return join(tmpdir(), `hactl-e2e-${tag}-${process.pid}-${randomBytes(3).toString('hex')}`);
}

export function labOptions(req: LabRequest = {}): LabOptions {
  return {
    clusters: req.clusters ?? DEFAULT_OPTIONS.clusters,
    lbs: req.lbs ?? DEFAULT_OPTIONS.lbs,
    backends: req.backends ?? DEFAULT_OPTIONS.backends,
    dualMaster: req.dualMaster ?? DEFAULT_OPTIONS.dualMaster,
    outDir: req.outDir ?? tempLabDir(),
    ...(req.hostKeys ? { hostKeys: req.hostKeys } : {}),
    ...(req.concurrency ? { concurrency: req.concurrency } : {}),
    os: req.os ?? 'debian-12',
    packages: req.packages ?? 'preinstalled',
    ...(req.nginx ? { nginx: req.nginx } : {}),
    ...(req.ipv6 ? { ipv6: req.ipv6 } : {}),
    ...(req.tls ? { tls: req.tls } : {}),
    ...(req.privateNet ? { privateNet: req.privateNet } : {}),
    ...(req.fast ? { fast: req.fast } : {}),
    ephemeral: true,
  };
}

export function fixtureOf(get: () => LabState | undefined): LabFixture {
  const state = () => {
    const s = get();
    if (!s) throw new Error('the lab is not up (did beforeAll fail? see its error above)');
    return s;
  };
  return {
    get state() {
      return state();
    },
    host: (name) => findHost(state(), name),
    lbs: () => state().hosts.filter((h) => h.role === 'lb'),
    backends: () => state().hosts.filter((h) => h.role === 'backend'),
  };
}

/** Call at the top of a test file or describe block. */
export function useLab(req: LabRequest = {}): LabFixture {
  let lab: LabState | undefined;
  const opts = labOptions(req);
  beforeAll(async () => {
    if (process.getuid?.() !== 0) throw new Error('e2e lab tests need root (namespaces, mounts, links)');
    await downAll({ staleOnly: true });
    lab = await up(opts);
  }, req.upTimeoutMs ?? 600_000);
  afterAll(async () => {
    if (lab) await down(lab.outDir);
    // Tests put their own files (inventory variants) beside the lab's: the temp dir goes too.
    if (!req.outDir) await rm(opts.outDir, { recursive: true, force: true });
  }, 120_000);
  return fixtureOf(() => lab);
}
