/**
 * What deploy does on one host, each as one round trip: read facts (under the deploy lock),
 * apply a plan, wait until healthy. Deals only with the Transport seam; no printing.
 */
import { randomBytes } from 'node:crypto';
import { RemoteStepError } from '../errors.js';
import type { Cluster, LoadBalancer } from '../inventory/model.js';
import { maskSecrets, type Secret } from '../inventory/secret.js';
import { applyRequest, type HostPlan } from '../plan/plan.js';
import {
  APPLY_EXIT,
  APPLY_MEANING,
  applyScript,
  bootstrapCommand,
  type ApplyRequest,
  type ReleaseRecord,
} from '../remote/apply.js';
import {
  factsSections,
  hostFacts,
  readFacts,
  rememberPrograms,
  withKnown,
  type FactsRequest,
  type HostFacts,
} from '../remote/facts.js';
import { lockAndGather } from '../remote/lock.js';
import { healthWaitSection } from '../remote/sections/health-wait.js';
import { holdsAddress } from '../remote/sections/host.js';
import { keepalivedDataSection, type InstanceState } from '../remote/sections/keepalived.js';
import type { HostRender } from '../render/render.js';
import { ORPHANABLE_SCRIPTS } from '../plan/plan.js';
import type { Transport } from '../transport/transport.js';
import { nginxArgv } from '../shell/nginx.js';
import { vrrpState } from '../verify/verdicts.js';
import { isNodeDrained } from '../remote/sections/drain.js';

export function factsRequest(render: HostRender, extraFiles: readonly string[] = []): FactsRequest {
  const nginx = render.lb.nginx;
  // A prefix build's main file is read too: preflight checks it includes hactl's directory.
  const mainConf = nginx.kind === 'prefix' ? [nginx.conf] : [];
  return {
    nginxConfDir: nginx.includeDir,
    nginx: nginxArgv(nginx),
    // hactl's keepalived scripts are read even when not rendered: one left by an earlier deploy goes.
    files: [...new Set([...render.files.map((f) => f.path), ...ORPHANABLE_SCRIPTS, ...mainConf, ...extraFiles])],
    sysctl: Object.keys(render.sysctl),
    statusPort: render.cluster.nginxStatusPort,
  };
}

/** What deploy plans from: the facts without nginx's status endpoint, which no plan reads. */
function planFactsRequest(render: HostRender, extraFiles: readonly string[]): FactsRequest {
  const { statusPort: _unread, ...req } = factsRequest(render, extraFiles);
  return req;
}

/** Facts without the lock (dry run: the plan may be stale against a concurrent deploy, which is fine for a preview). */
export async function readHostFacts(
  t: Transport,
  render: HostRender,
  extraFiles: readonly string[] = [],
): Promise<HostFacts> {
  return (await readFacts(t, planFactsRequest(render, extraFiles), [] as const, { step: 'facts', timeoutMs: 20_000 }))
    .facts;
}

export interface HeldLock {
  facts: HostFacts;
  stale?: string;
  release(): Promise<void>;
}

/** Takes the deploy lock and reads facts in the same round trip; the lock lives until release(). */
export async function lockAndReadFacts(
  t: Transport,
  render: HostRender,
  holder: string,
  extraFiles: readonly string[] = [],
): Promise<HeldLock> {
  const held = await lockAndGather(t, holder, factsSections(withKnown(t, planFactsRequest(render, extraFiles))));
  const facts = hostFacts(held.results);
  rememberPrograms(t, facts);
  return { facts, ...(held.stale ? { stale: held.stale } : {}), release: held.release };
}

export interface ApplyOutcome {
  ms: number;
}

export async function applyPlan(
  t: Transport,
  plan: HostPlan,
  facts: HostFacts,
  render: HostRender,
  release?: ReleaseRecord,
): Promise<ApplyOutcome> {
  const req = { ...applyRequest(plan, facts, render.lb.nginx), ...(release ? { release } : {}) };
  return runTransaction(t, req, render.secrets);
}

/** Only the packages of a plan: a transaction that writes no file and touches no service. */
export async function installPackages(t: Transport, plan: HostPlan, facts: HostFacts): Promise<ApplyOutcome> {
  return runTransaction(t, applyRequest({ ...plan, files: [], sysctl: {}, reload: [], start: [] }, facts), []);
}

export async function runTransaction(
  t: Transport,
  req: ApplyRequest,
  secrets: readonly Secret[],
): Promise<ApplyOutcome> {
  const token = randomBytes(8).toString('hex');
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '');
  const started = performance.now();
  const r = await t.exec(bootstrapCommand(token, t.rootPrefix), {
    stdin: applyScript(req, token, stamp, t.rootPrefix),
    timeoutMs: 600_000,
  });
  if (r.code === APPLY_EXIT.ok) return { ms: performance.now() - started };
  const what = APPLY_MEANING[r.code] ?? `the apply script failed (exit ${r.code})`;
  throw new RemoteStepError(t.name, 'apply', what, maskSecrets(r.stderr, secrets), r.code);
}

export interface Health {
  ok: boolean;
  problems: string[];
  facts: HostFacts;
}

/**
 * Healthy: nginx serves our status endpoint, keepalived runs, every VRRP instance is MASTER
 * or BACKUP, and MASTER where this host is the preempting master (strictMaster).
 */
export function assessHealth(
  cluster: Cluster,
  lb: LoadBalancer,
  facts: HostFacts,
  keepalived: Map<string, InstanceState>,
  strictMaster: boolean,
): Health {
  const problems: string[] = [];
  if (!facts.running.nginx) problems.push('nginx is not running');
  else if (!facts.nginxStatus?.startsWith(`ok ${lb.name}`))
    problems.push(
      `nginx does not answer its status endpoint 127.0.0.1:${cluster.nginxStatusPort} with this configuration`,
    );
  if (!facts.running.keepalived) problems.push('keepalived is not running');
  else
    for (const vip of cluster.vips) {
      const { state } = vrrpState({
        keepalivedRunning: true,
        keepalived: keepalived.get(vip.name),
        notified: facts.notified[vip.name],
        holdsVip: holdsAddress(facts, vip.ip),
      });
      // hactl drain's -254 (a VIP without preemption) puts the node in FAULT on purpose.
      const drainedFault = state === 'FAULT' && isNodeDrained(facts.drain);
      if (state !== 'MASTER' && state !== 'BACKUP' && !drainedFault) problems.push(`${vip.name} is in state ${state}`);
      else if (strictMaster && vip.master === lb.name && vip.preempt && state !== 'MASTER')
        problems.push(`${vip.name} is ${state}, expected MASTER`);
    }
  return { ok: problems.length === 0, problems, facts };
}

/** Waits on the host (up to waitSeconds) until healthy, then reads facts and keepalived's state. */
export async function readHealth(
  t: Transport,
  render: HostRender,
  strictMaster: boolean,
  waitSeconds = 0,
): Promise<Health> {
  const { cluster, lb } = render;
  const wait = healthWaitSection({
    statusPort: cluster.nginxStatusPort,
    lbName: lb.name,
    mustMaster: strictMaster ? cluster.vips.filter((v) => v.master === lb.name && v.preempt).map((v) => v.name) : [],
    waitSeconds,
  });
  const req = { ...factsRequest(render), files: [] };
  const { facts, extra } = await readFacts(t, req, [wait, keepalivedDataSection] as const, {
    step: 'health',
    timeoutMs: 10_000 + waitSeconds * 1000,
  });
  return assessHealth(cluster, lb, facts, extra[1], strictMaster);
}
