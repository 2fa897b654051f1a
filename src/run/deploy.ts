/**
 * hactl deploy: connect → lock + facts → plan (→ confirm) → rolling apply → verify.
 * Nothing changes anywhere until every host has passed preflight. Within a cluster, one load
 * balancer at a time, backups first; a failed host stops the rollout; Ctrl-C lets the host in
 * flight finish its transaction and stops before the next one.
 */
import pLimit from 'p-limit';
import type { Cluster, Inventory, LoadBalancer } from '../inventory/model.js';
import type { Transport } from '../transport/transport.js';
import { renderInventory, type HostRender } from '../render/render.js';
import { planHost, type HostPlan } from '../plan/plan.js';
import { preflight } from './preflight.js';
import { rollingOrder } from './order.js';
import { applyPlan, lockAndReadFacts, readFacts, readHealth, type HeldLock } from './host-ops.js';
import { waitFor } from '../util/wait-for.js';
import type { HostFacts } from '../facts/host-facts.js';
import { postDeployChecks, type Check } from '../verify/post-deploy.js';

export type HostStatus = 'pending' | 'unchanged' | 'planned' | 'changed' | 'failed' | 'skipped';

export interface HostResult {
  host: string;
  cluster: string;
  status: HostStatus;
  summary: string;
  filesChanged: string[];
  packagesInstalled: string[];
  servicesReloaded: string[];
  servicesStarted: string[];
  timings: { connectMs?: number; factsMs?: number; applyMs?: number; healthMs?: number };
  roundTrips: number;
  staleLock?: string;
  error?: string;
}

export interface DeployEvent {
  host: string;
  cluster: string;
  step: 'connect' | 'facts' | 'plan' | 'wait' | 'apply' | 'health' | 'done' | 'failed' | 'skipped';
  message?: string;
}

export interface DeployOptions {
  connect: (lb: LoadBalancer) => Promise<Transport>;
  dryRun?: boolean;
  /** Asked with the plans when something would change; false stops before any change. */
  confirm?: (plans: HostPlan[]) => Promise<boolean>;
  concurrency?: number;
  signal?: AbortSignal;
  onEvent?: (e: DeployEvent) => void;
  /** Written into the lock so a refused operator learns who holds it. */
  holder?: string;
  /** Run the post-deploy checks (VIP holders, sites through the VIPs). Default: true. */
  verify?: boolean;
}

export interface DeployResult {
  ok: boolean;
  dryRun: boolean;
  /** The last phase reached: preflight failures change nothing. */
  phase: 'preflight' | 'plan' | 'confirm' | 'apply' | 'verify' | 'done';
  message: string;
  hosts: HostResult[];
  plans: HostPlan[];
  checks: Check[];
  aborted: boolean;
  durationMs: number;
}

interface HostCtx {
  render: HostRender;
  result: HostResult;
  transport?: Transport;
  lock?: HeldLock;
  facts?: HostFacts;
  plan?: HostPlan;
}

const ms = (since: number) => Math.round(performance.now() - since);

function newResult(r: HostRender): HostResult {
  return {
    host: r.lb.name,
    cluster: r.cluster.name,
    status: 'pending',
    summary: '',
    filesChanged: [],
    packagesInstalled: [],
    servicesReloaded: [],
    servicesStarted: [],
    timings: {},
    roundTrips: 0,
  };
}

export async function deploy(inv: Inventory, opts: DeployOptions): Promise<DeployResult> {
  const started = performance.now();
  const dryRun = opts.dryRun ?? false;
  const emit = (c: HostCtx, step: DeployEvent['step'], message?: string) =>
    opts.onEvent?.({ host: c.render.lb.name, cluster: c.render.cluster.name, step, message });
  const hosts: HostCtx[] = renderInventory(inv).map((render) => ({ render, result: newResult(render) }));
  const byName = new Map(hosts.map((h) => [h.render.lb.name, h]));
  const limit = pLimit(opts.concurrency ?? 32);
  const finish = (
    partial: Omit<DeployResult, 'hosts' | 'plans' | 'durationMs' | 'dryRun' | 'aborted' | 'checks'> & {
      checks?: Check[];
    },
  ): DeployResult => {
    for (const h of hosts) h.result.roundTrips = h.transport?.roundTrips ?? 0;
    return {
      ...partial,
      checks: partial.checks ?? [],
      dryRun,
      aborted: opts.signal?.aborted ?? false,
      hosts: hosts.map((h) => h.result),
      plans: hosts.flatMap((h) => (h.plan ? [h.plan] : [])),
      durationMs: ms(started),
    };
  };

  try {
    // Phase 1: connect, lock, facts, plan, preflight — on every host before any change.
    await Promise.all(
      hosts.map((h) =>
        limit(async () => {
          try {
            emit(h, 'connect');
            let t0 = performance.now();
            h.transport = await opts.connect(h.render.lb);
            h.result.timings.connectMs = ms(t0);
            emit(h, 'facts');
            t0 = performance.now();
            if (dryRun) h.facts = await readFacts(h.transport, h.render);
            else {
              h.lock = await lockAndReadFacts(h.transport, h.render, opts.holder ?? 'hactl');
              h.facts = h.lock.facts;
              h.result.staleLock = h.lock.stale;
            }
            h.result.timings.factsMs = ms(t0);
            h.plan = planHost(h.render, h.facts);
            const problems = preflight(h.render.cluster, h.render.lb, h.facts, h.plan);
            if (problems.length > 0) throw new Error(`preflight: ${problems.join('; ')}`);
            h.result.summary = h.plan.summary;
            h.result.status = h.plan.changed ? 'planned' : 'unchanged';
            emit(h, 'plan', h.plan.summary);
          } catch (e) {
            h.result.status = 'failed';
            h.result.error = (e as Error).message;
            emit(h, 'failed', h.result.error);
          }
        }),
      ),
    );
    const failed = hosts.filter((h) => h.result.status === 'failed');
    if (failed.length > 0)
      return finish({
        ok: false,
        phase: 'preflight',
        message: `preflight failed on ${failed.map((h) => h.result.host).join(', ')}; nothing was changed on any host`,
      });
    const changing = hosts.filter((h) => h.plan!.changed);
    if (dryRun)
      return finish({
        ok: true,
        phase: 'plan',
        message: changing.length
          ? `${changing.length} host(s) would change (dry run: nothing was changed)`
          : 'nothing to change',
      });
    if (changing.length > 0 && opts.confirm && !(await opts.confirm(hosts.map((h) => h.plan!))))
      return finish({ ok: false, phase: 'confirm', message: 'not confirmed; nothing was changed' });
    if (opts.signal?.aborted) return finish({ ok: false, phase: 'confirm', message: 'interrupted before any change' });

    // Phase 2: rolling apply, clusters in parallel, one load balancer at a time within each.
    let stop = false;
    await Promise.all(
      inv.clusters.map(async (cluster) => {
        for (const name of rollingOrder(cluster)) {
          const h = byName.get(name)!;
          if (!h.plan!.changed) continue;
          if (stop || opts.signal?.aborted) {
            h.result.status = 'skipped';
            h.result.summary = `not applied (rollout stopped): ${h.plan!.summary}`;
            emit(h, 'skipped');
            continue;
          }
          try {
            await applyHost(h, cluster, emit);
          } catch (e) {
            stop = true;
            h.result.status = 'failed';
            h.result.error = (e as Error).message;
            emit(h, 'failed', h.result.error);
          }
        }
      }),
    );
    const applyFailed = hosts.filter((h) => h.result.status === 'failed' || h.result.status === 'skipped');
    if (applyFailed.length > 0 || opts.signal?.aborted) {
      const why = opts.signal?.aborted
        ? 'interrupted'
        : `failed on ${hosts
            .filter((h) => h.result.status === 'failed')
            .map((h) => h.result.host)
            .join(', ')}`;
      return finish({
        ok: false,
        phase: 'apply',
        message: `rollout ${why}; every host is on its previous or its new configuration`,
      });
    }

    // Phase 3: prove it: each VIP on exactly one holder, each site answering through its VIPs.
    if (opts.verify === false) return finish({ ok: true, phase: 'done', message: summary(hosts) });
    // Nothing changed: the facts read under the lock are a fresh observation of who holds each VIP.
    const known = changing.length === 0 ? (name: string) => byName.get(name)!.facts : undefined;
    const checks = await postDeployChecks(
      inv,
      (name) => byName.get(name)!.transport!,
      (name) => byName.get(name)!.render,
      opts.signal,
      known,
    );
    const bad = checks.filter((c) => !c.ok);
    return finish({
      ok: bad.length === 0,
      phase: bad.length ? 'verify' : 'done',
      checks,
      message: bad.length ? `deployed, but ${bad.length} check(s) failed` : summary(hosts),
    });
  } finally {
    await Promise.all(
      hosts.map(async (h) => {
        await h.lock?.release().catch(() => undefined);
        await h.transport?.close().catch(() => undefined);
      }),
    );
  }
}

async function applyHost(
  h: HostCtx,
  cluster: Cluster,
  emit: (c: HostCtx, step: DeployEvent['step'], m?: string) => void,
): Promise<void> {
  const t = h.transport!;
  const plan = h.plan!;
  emit(h, 'apply', plan.summary);
  const outcome = await applyPlan(t, plan, h.facts!, h.render.secrets);
  h.result.timings.applyMs = Math.round(outcome.ms);
  h.result.filesChanged = plan.files.filter((f) => f.action !== 'unchanged').map((f) => f.file.path);
  h.result.packagesInstalled = plan.packages;
  h.result.servicesReloaded = plan.reload;
  h.result.servicesStarted = plan.start;
  emit(h, 'health');
  const t0 = performance.now();
  const advert = Math.max(...cluster.vips.map((v) => v.advertInt));
  const delay = Math.max(0, ...cluster.vips.map((v) => v.preemptDelay ?? 0));
  const health = await waitFor(
    async () => {
      const hl = await readHealth(t, h.render, true, 5);
      if (!hl.ok) throw new Error(hl.problems.join('; '));
      return hl;
    },
    {
      timeoutMs: Math.round((3 * advert + 1 + delay) * 1000) + 8000,
      intervalMs: 150,
      what: `${h.render.lb.name} to be healthy`,
    },
  );
  h.result.timings.healthMs = ms(t0);
  h.result.status = 'changed';
  h.result.summary = plan.summary;
  emit(h, 'done', health.problems.join('; ') || plan.summary);
}

function summary(hosts: HostCtx[]): string {
  const changed = hosts.filter((h) => h.result.status === 'changed').length;
  return changed === 0
    ? `nothing to change on ${hosts.length} host(s)`
    : `${changed} of ${hosts.length} host(s) changed`;
}
