/**
 * hactl deploy: connect → lock + facts → plan (→ confirm) → rolling apply → verify.
 * Nothing changes anywhere until every host has passed preflight. Within a cluster, one load
 * balancer at a time, backups first; a failed host stops the rollout; Ctrl-C lets the host in
 * flight finish its transaction and stops before the next one.
 */
import pLimit from 'p-limit';
import { RemoteStepError } from '../errors.js';
import type { Cluster, Inventory } from '../inventory/model.js';
import { convergenceMs } from '../inventory/vrrp-math.js';
import { DISTRO_DEFAULT_SITE, planHost, type HostPlan } from '../plan/plan.js';
import { holds, type HostFacts } from '../remote/facts.js';
import { versionsOf } from '../render/features.js';
import { renderHost, renderInventory, type HostRender } from '../render/render.js';
import type { LbConnector, Transport } from '../transport/transport.js';
import type { HttpClient } from '../util/http.js';
import { waitFor } from '../util/wait-for.js';
import { postDeployChecks, type Check } from '../verify/post-deploy.js';
import type { CensusReport } from '../verify/census.js';
import { censusRefusal, firstDeployCensus } from './census-gate.js';
import { newRelease, type ReleaseInfo, type Target } from './release-record.js';
import type { ReleaseRecord } from '../remote/apply.js';
import { applyPlan, installPackages, lockAndReadFacts, readHealth, readHostFacts, type HeldLock } from './host-ops.js';
import { rollingOrder } from './order.js';
import { isNodeDrained } from '../remote/sections/drain.js';
import { drainedOn } from '../drain/state.js';
import { preflight } from './preflight.js';
import { gather } from '../remote/section.js';
import { procEventsProblem, procEventsSection, usesTrackProcess } from '../remote/sections/proc-events.js';

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
  timings: { connectMs?: number; factsMs?: number; installMs?: number; applyMs?: number; healthMs?: number };
  roundTrips: number;
  staleLock?: string;
  error?: string;
  /** The release this host's transaction recorded or went back to. */
  release?: string;
}

export interface DeployEvent {
  host: string;
  cluster: string;
  step: 'connect' | 'facts' | 'plan' | 'wait' | 'apply' | 'health' | 'done' | 'failed' | 'skipped';
  message?: string;
}

export interface DeployOptions {
  connect: LbConnector;
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
  /** HTTP from this machine for the site checks. Default: httpGet. */
  http?: HttpClient;
  /**
   * The VRID census before a cluster's first deploy (default: on). `force`: a collision does
   * not refuse; `confirm` is asked instead (no confirm: proceed).
   */
  census?: { skip?: boolean; force?: boolean; confirm?: (reports: CensusReport[]) => Promise<boolean> };
  /** Record a release on every host whose files this deploy changes. */
  release?: ReleaseInfo;
  /** What each host should end up with instead of the inventory's render (rollback: a release). */
  target?: Target;
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
  /** The VRID census of each cluster deployed for the first time. */
  census: CensusReport[];
  aborted: boolean;
  durationMs: number;
}

/** A host through preflight: connected, (locked,) its facts read and its plan made. */
interface Ready {
  render: HostRender;
  result: HostResult;
  transport: Transport;
  lock?: HeldLock;
  facts: HostFacts;
  plan: HostPlan;
}

interface HostCtx {
  render: HostRender;
  result: HostResult;
  transport?: Transport;
  lock?: HeldLock;
  ready?: Ready;
}

type Emit = (h: { render: HostRender }, step: DeployEvent['step'], message?: string) => void;

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

/**
 * Connect, take the lock and read facts (one round trip), plan, preflight. A dry run reads
 * without the lock: its plan may be stale against a concurrent deploy, which a preview allows,
 * and it never blocks (or is blocked by) a real deploy.
 */
async function prepare(h: HostCtx, opts: DeployOptions, emit: Emit): Promise<void> {
  emit(h, 'connect');
  let t0 = performance.now();
  const transport = await opts.connect(h.render.lb);
  h.transport = transport;
  h.result.timings.connectMs = ms(t0);
  emit(h, 'facts');
  t0 = performance.now();
  let facts: HostFacts;
  const extra = opts.target?.readAlso(h.render.lb.name) ?? [];
  if (opts.dryRun) facts = await readHostFacts(transport, h.render, extra);
  else {
    h.lock = await lockAndReadFacts(transport, h.render, opts.holder ?? 'hactl', extra);
    facts = h.lock.facts;
    if (h.lock.stale) h.result.staleLock = h.lock.stale;
  }
  h.result.timings.factsMs = ms(t0);
  h.render = desiredRender(h.render, facts, opts);
  const plan = opts.target ? opts.target.plan(h.render, facts) : planHost(h.render, facts);
  const problems = [
    ...preflight(h.render.cluster, h.render.lb, facts, plan),
    ...(await trackProcessProblems(h, transport)),
  ];
  if (problems.length > 0) throw new RemoteStepError(h.render.lb.name, 'preflight', problems.join('; '));
  h.result.summary = plan.summary;
  h.result.status = plan.changed ? 'planned' : 'unchanged';
  h.ready = { render: h.render, result: h.result, transport, facts, plan, ...(h.lock ? { lock: h.lock } : {}) };
  emit(h, 'plan', plan.summary);
}

/**
 * A health check through track_process asks the host whether keepalived can hear process
 * events there (one more round trip, only for those clusters): where it cannot, deploying would
 * leave every instance in FAULT.
 */
async function trackProcessProblems(h: HostCtx, transport: Transport): Promise<string[]> {
  const mode = h.render.cluster.healthCheck.mode;
  if (!usesTrackProcess(mode)) return [];
  const [pe] = await gather(transport, [procEventsSection] as const, { step: 'facts', timeoutMs: 10_000 });
  const problem = procEventsProblem(h.render.lb.name, mode, pe);
  return problem ? [problem] : [];
}

/** The files are rendered for the keepalived and nginx this host runs (or, for rollback, read from the release). */
function desiredRender(base: HostRender, facts: HostFacts, opts: DeployOptions): HostRender {
  if (!opts.target) return renderHost(base.cluster, base.lb, versionsOf(facts.programs), drainedOn(facts));
  try {
    return opts.target.render(base, facts);
  } catch (e) {
    throw new RemoteStepError(base.lb.name, 'preflight', (e as Error).message);
  }
}

/** What the host's transaction records: rollback's target says; deploy records a new release where files change. */
function recordFor(h: Ready, cluster: Cluster, ready: Map<string, Ready>, opts: DeployOptions) {
  if (opts.target) return opts.target.record(h.render.lb.name);
  return opts.release ? newRelease(opts.release, cluster, h, (n) => ready.get(n)) : undefined;
}

function failHost(h: { render: HostRender; result: HostResult }, e: unknown, emit: Emit): void {
  h.result.status = 'failed';
  h.result.error = (e as Error).message;
  emit(h, 'failed', h.result.error);
}

/**
 * A cold cluster serves nothing yet: no node runs keepalived or holds one of its VIPs. Then
 * there is no holder to keep healthy, and its nodes are configured at once, so the election
 * (keepalived's master-down interval, 3 × advert_int + skew, even on the master) is waited
 * once, not once per node.
 */
export function isCold(cluster: Cluster, ready: Map<string, Ready>): boolean {
  return cluster.lbs.every((lb) => {
    const f = ready.get(lb.name)?.facts;
    return f !== undefined && !f.running.keepalived && !cluster.vips.some((v) => holds(f, v.ip));
  });
}

/**
 * Per cluster in parallel. In a serving cluster one load balancer at a time, backups first, so
 * each VIP keeps a healthy holder; the first failure stops every cluster's rollout. A cold
 * cluster's nodes are applied together.
 */
async function rollOut(inv: Inventory, ready: Map<string, Ready>, opts: DeployOptions, emit: Emit): Promise<void> {
  let stop = false;
  const one = async (h: Ready, cluster: Cluster) => {
    if (stop || opts.signal?.aborted) {
      h.result.status = 'skipped';
      h.result.summary = `not applied (rollout stopped): ${h.plan.summary}`;
      emit(h, 'skipped');
      return;
    }
    try {
      await applyHost(h, cluster, emit, () => recordFor(h, cluster, ready, opts));
    } catch (e) {
      stop = true;
      failHost(h, e, emit);
    }
  };
  await Promise.all(
    inv.clusters.map(async (cluster) => {
      const hosts = rollingOrder(cluster).flatMap((name) => {
        const h = ready.get(name);
        return h?.plan.changed ? [h] : [];
      });
      if (isCold(cluster, ready)) await Promise.all(hosts.map((h) => one(h, cluster)));
      else for (const h of hosts) await one(h, cluster);
    }),
  );
}

/**
 * A host that lacks keepalived or nginx gets them first, in a transaction of their own; then
 * hactl reads the host again and plans for the versions that are now installed (the files are
 * rendered for them) and for what the packages brought (a service they started, the
 * distribution's default nginx site, which hactl disables when it installed nginx).
 */
async function installFirst(h: Ready, emit: Emit): Promise<void> {
  const installed = h.plan.packages;
  emit(h, 'apply', `install ${installed.join(' ')}`);
  const t0 = performance.now();
  await installPackages(h.transport, h.plan, h.facts);
  h.result.timings.installMs = ms(t0);
  h.result.packagesInstalled = installed;
  const fresh = installed.includes('nginx');
  h.facts = await readHostFacts(h.transport, h.render, fresh ? [DISTRO_DEFAULT_SITE] : []);
  h.render = renderHost(h.render.cluster, h.render.lb, versionsOf(h.facts.programs), drainedOn(h.facts));
  h.plan = planHost(h.render, h.facts, { disableDefaultSite: fresh });
}

async function applyHost(
  h: Ready,
  cluster: Cluster,
  emit: Emit,
  record: () => ReleaseRecord | undefined,
): Promise<void> {
  if (h.plan.packages.length > 0) await installFirst(h, emit);
  const { plan, transport } = h;
  emit(h, 'apply', plan.summary);
  const release = record();
  const outcome = await applyPlan(transport, plan, h.facts, h.render, release);
  if (release) h.result.release = release.id;
  h.result.timings.applyMs = Math.round(outcome.ms);
  h.result.filesChanged = plan.files.filter((f) => f.action !== 'unchanged').map((f) => f.file.path);
  h.result.servicesReloaded = plan.reload;
  h.result.servicesStarted = plan.start;
  emit(h, 'health');
  const t0 = performance.now();
  const health = await waitFor(
    async () => {
      // A drained master stays out of the election: it is healthy as a backup.
      const hl = await readHealth(transport, h.render, !isNodeDrained(h.facts.drain), 5);
      if (!hl.ok) throw new Error(hl.problems.join('; '));
      return hl;
    },
    { timeoutMs: convergenceMs(cluster, cluster.vips), intervalMs: 150, what: `${h.render.lb.name} to be healthy` },
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

type Outcome = Pick<DeployResult, 'ok' | 'phase' | 'message'> & { checks?: Check[]; census?: CensusReport[] };

/**
 * Before anything changes: the census of clusters deployed for the first time. A collision
 * refuses the deploy, unless forced, and then only once the operator confirmed it.
 */
async function censusStep(
  inv: Inventory,
  ready: Map<string, Ready>,
  opts: DeployOptions,
): Promise<Outcome | undefined> {
  if (opts.census?.skip) return undefined;
  const census = await firstDeployCensus(inv, (n) => ready.get(n), opts.signal);
  const refusal = censusRefusal(census);
  if (!refusal) return census.length ? { ok: true, phase: 'plan', message: '', census } : undefined;
  if (!opts.census?.force) return { ok: false, phase: 'preflight', message: `${refusal}; nothing was changed`, census };
  if (!opts.dryRun && opts.census.confirm && !(await opts.census.confirm(census)))
    return { ok: false, phase: 'confirm', message: 'VRID collision not confirmed; nothing was changed', census };
  return { ok: true, phase: 'plan', message: '', census };
}

/** After preflight: dry-run stop, confirmation, rollout, then the post-deploy checks. */
async function afterPreflight(inv: Inventory, hosts: HostCtx[], opts: DeployOptions, emit: Emit): Promise<Outcome> {
  const ready = new Map(hosts.flatMap((h) => (h.ready ? [[h.render.lb.name, h.ready] as const] : [])));
  const plans = [...ready.values()].map((h) => h.plan);
  const changing = plans.filter((p) => p.changed);
  const gate = await censusStep(inv, ready, opts);
  if (gate && !gate.ok) return gate;
  const census = gate?.census ? { census: gate.census } : {};
  if (opts.dryRun) {
    const message = changing.length
      ? `${changing.length} host(s) would change (dry run: nothing was changed)`
      : 'nothing to change';
    return { ok: true, phase: 'plan', message, ...census };
  }
  if (changing.length > 0 && opts.confirm && !(await opts.confirm(plans)))
    return { ok: false, phase: 'confirm', message: 'not confirmed; nothing was changed', ...census };
  if (opts.signal?.aborted) return { ok: false, phase: 'confirm', message: 'interrupted before any change', ...census };
  return { ...(await rollOutAndCheck(inv, hosts, ready, changing.length, opts, emit)), ...census };
}

/** The rollout, then the post-deploy checks. */
async function rollOutAndCheck(
  inv: Inventory,
  hosts: HostCtx[],
  ready: Map<string, Ready>,
  changing: number,
  opts: DeployOptions,
  emit: Emit,
): Promise<Outcome> {
  await rollOut(inv, ready, opts, emit);
  const failed = hosts.filter((h) => h.result.status === 'failed').map((h) => h.result.host);
  if (failed.length > 0 || opts.signal?.aborted) {
    const why = opts.signal?.aborted ? 'interrupted' : `failed on ${failed.join(', ')}`;
    return {
      ok: false,
      phase: 'apply',
      message: `rollout ${why}; every host is on its previous or its new configuration`,
    };
  }
  if (opts.verify === false) return { ok: true, phase: 'done', message: summary(hosts) };
  // Nothing changed: the facts read under the lock are a fresh observation of who holds each VIP.
  const known = changing === 0 ? (name: string) => ready.get(name)?.facts : undefined;
  const drained = [...ready.values()].filter((h) => isNodeDrained(h.facts.drain)).map((h) => h.render.lb.name);
  const checks = await postDeployChecks(
    inv,
    (name) => ready.get(name)?.transport,
    opts.signal,
    known,
    opts.http,
    drained,
  );
  const bad = checks.filter((c) => !c.ok);
  return {
    ok: bad.length === 0,
    phase: bad.length ? 'verify' : 'done',
    checks,
    message: bad.length ? `deployed, but ${bad.length} check(s) failed` : summary(hosts),
  };
}

export async function deploy(inv: Inventory, opts: DeployOptions): Promise<DeployResult> {
  const started = performance.now();
  const emit: Emit = (h, step, message) =>
    opts.onEvent?.({ host: h.render.lb.name, cluster: h.render.cluster.name, step, message });
  const hosts: HostCtx[] = renderInventory(inv).map((render) => ({ render, result: newResult(render) }));
  const limit = pLimit(opts.concurrency ?? 32);
  const finish = (o: Outcome): DeployResult => {
    for (const h of hosts) h.result.roundTrips = h.transport?.roundTrips ?? 0;
    return {
      ...o,
      checks: o.checks ?? [],
      census: o.census ?? [],
      dryRun: opts.dryRun ?? false,
      aborted: opts.signal?.aborted ?? false,
      hosts: hosts.map((h) => h.result),
      plans: hosts.flatMap((h) => (h.ready ? [h.ready.plan] : [])),
      durationMs: ms(started),
    };
  };
  try {
    // Every host is read and planned before any host changes.
    await Promise.all(hosts.map((h) => limit(() => prepare(h, opts, emit).catch((e) => failHost(h, e, emit)))));
    const failed = hosts.filter((h) => h.result.status === 'failed').map((h) => h.result.host);
    if (failed.length > 0)
      return finish({
        ok: false,
        phase: 'preflight',
        message: `preflight failed on ${failed.join(', ')}; nothing was changed on any host`,
      });
    return finish(await afterPreflight(inv, hosts, opts, emit));
  } finally {
    await Promise.all(
      hosts.map(async (h) => {
        await h.lock?.release().catch(() => undefined);
        await h.transport?.close().catch(() => undefined);
      }),
    );
  }
}
