/**
 * Runs one fault against one VIP: probe through the VIP, inject on its holder, watch the VIP
 * move, hold, undo, watch it come back. Two undos guard every fault: hactl's own, armed before
 * the inject is sent and run in `finally` (success, error, timeout, Ctrl-C), and the
 * watchdog's on the host, started in the inject's own exec before the fault goes in, which
 * undoes it after the maximum fault time when hactl cannot (killed, its laptop asleep, its
 * connection cut). The normal undo cancels the watchdog.
 */
import { randomBytes } from 'node:crypto';
import type { Cluster } from '../inventory/model.js';
import type { HostFacts } from '../remote/facts.js';
import type { Transport } from '../transport/transport.js';
import type { HttpClient, TlsTarget } from '../util/http.js';
import { waitFor } from '../util/wait-for.js';
import { render } from '../remote/script.js';
import { startProbe, type RunningProbe } from '../verify/probe.js';
import { buildFault, restoredCheck, type Fault, type FaultKind, type FaultTarget } from './faults.js';
import { planFault, type FaultPlan, type VipTarget } from './plan.js';
import {
  computeReport,
  type ClientKind,
  type FaultReport,
  type FaultTimes,
  type ProbeSample,
  type WatchdogOutcome,
} from './report.js';
import type { VipWatch } from './vip-watch.js';
import {
  ARM_EXIT,
  armAndInject,
  maxFaultSeconds,
  undoAndCancel,
  WATCHDOG_PRECHECK,
  type WatchdogSpec,
} from './watchdog.js';

export interface Timing {
  /** Probe before injecting, to show the service was up. */
  baselineMs: number;
  /** Holders unchanged this long = settled (after the failover and after the failback). */
  stableMs: number;
  /** Longest wait for the failback / for one holder after the undo. */
  failbackTimeoutMs: number;
}

export const DEFAULT_TIMING: Timing = { baselineMs: 1500, stableMs: 2500, failbackTimeoutMs: 30_000 };

export interface RunFaultOptions {
  kind: FaultKind;
  target: VipTarget;
  transports: ReadonlyMap<string, Transport>;
  facts: ReadonlyMap<string, HostFacts>;
  watch: VipWatch;
  rate: number;
  /** Where clients reach the VIP: the first site served on it (over HTTPS when it has TLS). */
  http: { port: number; path: string; host: string; tls?: TlsTarget };
  signal: AbortSignal;
  timing?: Partial<Timing>;
  say?: (line: string) => void;
  /** The new-connection probe's HTTP client. Default: httpGet. */
  httpClient?: HttpClient;
  /** The keep-alive probe's HTTP client. Default: its own keep-alive Agent. */
  keepAliveHttp?: HttpClient;
  /** Client kinds probing at `rate` each. Default: new. */
  clients?: ClientKind[];
  /** Headers every probe request carries (the probe token). */
  probeHeaders?: Record<string, string>;
  /** The watchdog's maximum fault time. Default: maxFaultSeconds(bound). */
  maxFaultSeconds?: number;
  /** Who runs the test (user@machine), for the host's fault record. */
  operator: string;
}

export interface FaultRun {
  plan: FaultPlan;
  report: FaultReport;
  probes: ProbeSample[];
  times: FaultTimes;
}

const UNDO_TIMEOUT_MS = 60_000;

/** The master's side of a fault: its service manager and the VRRP addresses of its peers. */
export function faultTarget(
  cluster: Cluster,
  master: string,
  facts: ReadonlyMap<string, HostFacts>,
  family: 4 | 6,
): FaultTarget {
  const lb = cluster.lbs.find((l) => l.name === master);
  return {
    serviceManager: facts.get(master)?.os.serviceManager ?? 'sysvinit',
    nginx: lb?.nginx ?? { kind: 'package', includeDir: '/etc/nginx/conf.d' },
    peers: cluster.lbs.filter((lb) => lb.name !== master).map((lb) => lb.vrrpAddress ?? lb.address),
    family,
    vips4: cluster.vips.filter((v) => v.family === 4).map((v) => v.ip),
  };
}

/** Waits on the watch's view of the VIP's holders (the watch's own failure ends the wait). */
class HolderWaits {
  constructor(
    private readonly watch: VipWatch,
    private readonly ip: string,
    private readonly stableMs: number,
  ) {}

  /** Until `want` holds; with `stable`, until the holders also stayed the same for stableMs. */
  until(
    what: string,
    timeoutMs: number,
    want: (h: string[]) => boolean,
    o: { stable?: boolean; signal?: AbortSignal } = {},
  ) {
    let last = '';
    let since = Date.now();
    return waitFor(
      () => {
        const failure = this.watch.failure();
        if (failure) throw failure;
        const h = this.watch.holders(this.ip);
        if (h.join() !== last) {
          last = h.join();
          since = Date.now();
        }
        const settled = !o.stable || Date.now() - since >= this.stableMs;
        return settled && want(h) ? h : undefined;
      },
      { timeoutMs, intervalMs: 50, what, signal: o.signal },
    );
  }
}

interface Restore {
  ok: boolean;
  detail: string;
}

/**
 * Runs the undo, the check that it took and, when both passed, cancels the watchdog; up to
 * three times. A lost connection leaves the watchdog armed: the failure says when it undoes.
 */
async function undoWithRetries(run: Run): Promise<Restore> {
  const { t, plan, fault, spec, times, watchdog } = run;
  times.undoAt = Date.now();
  let detail = '';
  for (let attempt = 1; attempt <= 3; attempt++) {
    try {
      const r = await t.exec(render(undoAndCancel(spec), t.rootPrefix), { timeoutMs: UNDO_TIMEOUT_MS });
      if (r.code === 0) {
        times.undoDoneAt = Date.now();
        watchdog.outcome = /watchdog fired/.test(r.stdout) ? 'fired' : 'cancelled';
        return { ok: true, detail: `${fault.undoSummary}${attempt > 1 ? ` (attempt ${attempt})` : ''}` };
      }
      detail = `exit ${r.code}: ${(r.stderr || r.stdout).trim()}`;
    } catch (e) {
      detail = (e as Error).message;
    }
  }
  times.undoDoneAt = Date.now();
  const by = new Date(times.injectAt + watchdog.maxSeconds * 1000).toISOString();
  return {
    ok: false,
    detail: `${plan.oldMaster}: undoing ${fault.kind} failed: ${detail}. Its watchdog on ${plan.oldMaster} undoes it by itself by ${by} (${watchdog.maxSeconds} s after the inject); or now: hactl failover-test --undo`,
  };
}

/** The state one fault run shares between its steps. */
interface Run {
  o: RunFaultOptions;
  plan: FaultPlan;
  fault: Fault;
  ft: FaultTarget;
  t: Transport;
  spec: WatchdogSpec;
  watchdog: WatchdogOutcome;
  waits: HolderWaits;
  timing: Timing;
  times: FaultTimes;
  /** Set from the inject on: the fault must be undone. */
  armed: boolean;
  restore: Restore;
  say: (line: string) => void;
}

/** Settle, inject, watch the VIP move and stay, undo, watch the failback. Throws on any failure. */
async function injectAndObserve(run: Run): Promise<void> {
  const { o, plan, fault, waits, timing, times, say } = run;
  const { vip } = o.target;
  const master = plan.oldMaster;
  await waits
    .until(
      `${vip.name} settled before the fault`,
      timing.baselineMs + 10_000,
      (h) => h.length === 1 && h[0] === master,
      {
        stable: true,
        signal: o.signal,
      },
    )
    .catch((e: Error) => {
      throw o.signal.aborted ? e : new Error(`${vip.name} did not stay on ${master} before the fault: ${e.message}`);
    });
  run.armed = true; // from here on the finally undoes, even if the inject itself fails halfway
  times.injectAt = Date.now();
  say(`${plan.kind}: injecting on ${master}: ${fault.describe}`);
  const r = await run.t.exec(render(armAndInject(run.spec), run.t.rootPrefix), { timeoutMs: 30_000 });
  times.injectDoneAt = Date.now();
  if (r.code === ARM_EXIT.noDir || r.code === ARM_EXIT.noWatchdog)
    throw new Error(`${master}: the fault's watchdog could not be armed, so nothing was injected: ${r.stderr.trim()}`);
  if (r.code !== 0) throw new Error(`${master}: injecting ${o.kind} failed (exit ${r.code}): ${r.stderr.trim()}`);
  run.watchdog.outcome = 'armed';
  say(
    `${plan.kind}: injected on ${master}; its watchdog undoes it by itself after ${run.spec.maxSeconds} s if hactl cannot`,
  );
  const away = (h: string[]) => h.some((x) => x !== master);
  const moved = await waits.until(`${vip.name} on a node other than ${master}`, plan.boundMs + 10_000, away, {
    signal: o.signal,
  });
  say(`${plan.kind}: ${vip.name} now on ${moved.join(' and ')}`);
  await waits.until(`${vip.name} stable after the failover`, 20_000, () => true, { stable: true, signal: o.signal });
  run.restore = await undoWithRetries(run);
  run.armed = !run.restore.ok;
  say(`${plan.kind}: undone on ${master}: ${run.restore.ok ? 'ok' : run.restore.detail}`);
  if (!run.restore.ok) return;
  const want = (h: string[]) => (plan.preempt ? h.length === 1 && h[0] === master : h.length === 1);
  const what = plan.preempt ? `${vip.name} back on ${master} (preemption)` : `${vip.name} on exactly one node`;
  await waits.until(what, timing.failbackTimeoutMs, want, { stable: true, signal: o.signal });
}

/** Plan and fault for the VIP's current holder, after the fault's precheck passed there. */
async function prepareRun(o: RunFaultOptions): Promise<Run> {
  const timing = { ...DEFAULT_TIMING, ...o.timing };
  const { cluster, vip } = o.target;
  const holders0 = o.watch.holders(vip.ip);
  if (holders0.length !== 1)
    throw new Error(
      `${cluster.name}/${vip.name} is held by ${holders0.length ? holders0.join(' and ') : 'nobody'}: a failover needs exactly one holder to start from`,
    );
  const plan = planFault(o.kind, o.target, holders0[0]);
  const t = o.transports.get(plan.oldMaster);
  if (!t) throw new Error(`${plan.oldMaster}: not connected`);
  const ft = faultTarget(cluster, plan.oldMaster, o.facts, vip.family);
  const fault = buildFault(o.kind, ft);
  const precheck = [WATCHDOG_PRECHECK, fault.precheck].filter(Boolean).join('\n');
  const r = await t.exec(precheck, { timeoutMs: 15_000 });
  if (r.code !== 0)
    throw new Error(`${plan.oldMaster}: cannot inject ${o.kind}: ${r.stderr.trim() || `precheck exit ${r.code}`}`);
  const maxSeconds = o.maxFaultSeconds ?? maxFaultSeconds(plan.boundMs);
  const id = `${Date.now()}-${o.kind}-${randomBytes(3).toString('hex')}`;
  const spec = { id, fault, restored: restoredCheck(o.kind, ft), maxSeconds, by: o.operator };
  return {
    o,
    plan,
    fault,
    ft,
    t,
    spec,
    watchdog: { maxSeconds, outcome: 'armed' },
    waits: new HolderWaits(o.watch, vip.ip, timing.stableMs),
    timing,
    times: { start: Date.now(), injectAt: 0, injectDoneAt: 0, end: 0 },
    armed: false,
    restore: { ok: true, detail: 'nothing to restore' },
    say: o.say ?? (() => undefined),
  };
}

/** One prober per client kind, each at the full rate, all on the clock the watch uses. */
function startProbes(o: RunFaultOptions): RunningProbe[] {
  return (o.clients ?? ['new']).map((client) =>
    startProbe({
      ip: o.target.vip.ip,
      port: o.http.port,
      path: o.http.path,
      hostHeader: o.http.host,
      ratePerSec: o.rate,
      durationMs: 300_000,
      timeoutMs: 1000,
      client,
      ...(o.probeHeaders ? { headers: o.probeHeaders } : {}),
      ...(o.httpClient ? { http: o.httpClient } : {}),
      ...(o.keepAliveHttp ? { keepAliveHttp: o.keepAliveHttp } : {}),
      ...(o.http.tls ? { tls: o.http.tls } : {}),
    }),
  );
}

export async function runFault(o: RunFaultOptions): Promise<FaultRun> {
  const run = await prepareRun(o);
  const { plan, times, say } = run;
  const { vip } = o.target;
  const initialHolders = [plan.oldMaster];
  const eventsBefore = o.watch.events(vip.ip).length;
  let error: string | undefined;
  let probes: RunningProbe[] = [];
  try {
    probes = startProbes(o);
    say(
      `${plan.kind}: probing ${o.http.tls ? 'https' : 'http'}://${o.http.host}${o.http.path} via ${vip.ip}:${o.http.port} at ${o.rate}/s (${(o.clients ?? ['new']).join(' + ')} connections); ${plan.oldMaster} holds ${vip.name}`,
    );
    await injectAndObserve(run);
  } catch (e) {
    error = (e as Error).message;
  } finally {
    if (run.armed) {
      say(`${plan.kind}: restoring ${plan.oldMaster}…`);
      run.restore = await undoWithRetries(run);
      // Report the state the restore led to, bounded, and without the (possibly aborted) signal.
      const one = (h: string[]) => h.length === 1;
      await run.waits
        .until(`${vip.name} on exactly one node after restoring`, run.timing.failbackTimeoutMs, one)
        .catch(() => undefined);
    }
    times.end = Date.now();
  }
  const samples = (await Promise.all(probes.map((p) => p.stop()))).flat();
  if (!times.injectAt) times.injectAt = times.injectDoneAt = times.end;
  const report = computeReport({
    plan,
    probes: samples,
    events: o.watch.events(vip.ip).slice(eventsBefore),
    initialHolders,
    times,
    rate: o.rate,
    restore: run.restore,
    ...(error && !o.signal.aborted ? { error } : {}),
    aborted: o.signal.aborted,
    // Armed and never cancelled: it has not fired yet either, and the report says so.
    watchdog: run.watchdog,
  });
  return { plan, report, probes: samples, times };
}
