/**
 * Runs one fault against one VIP: probe through the VIP, inject on its holder, watch the VIP
 * move, hold, undo, watch it come back. The undo is armed before the inject is sent and runs
 * in `finally`, so success, error, timeout and Ctrl-C all end with the fault removed.
 */
import type { Transport } from '../transport/transport.js';
import type { HostFacts } from '../facts/host-facts.js';
import { startProbe, type RunningProbe } from '../verify/probe.js';
import { waitFor } from '../util/wait-for.js';
import { buildFault, restoredCheck, type FaultKind, type FaultTarget } from './faults.js';
import { planFault, type FaultPlan, type VipTarget } from './plan.js';
import { computeReport, type FaultReport, type FaultTimes, type ProbeSample } from './report.js';
import type { VipWatch } from './vip-watch.js';

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
  /** Where clients reach the VIP: the first site served on it. */
  http: { port: number; path: string; host: string };
  signal: AbortSignal;
  timing?: Partial<Timing>;
  say?: (line: string) => void;
}

export interface FaultRun {
  plan: FaultPlan;
  report: FaultReport;
  probes: ProbeSample[];
  times: FaultTimes;
}

const UNDO_TIMEOUT_MS = 60_000;

export async function runFault(o: RunFaultOptions): Promise<FaultRun> {
  const timing = { ...DEFAULT_TIMING, ...o.timing };
  const say = o.say ?? (() => undefined);
  const { cluster, vip } = o.target;
  const ip = vip.ip;
  const start = Date.now();
  const holders0 = o.watch.holders(ip);
  if (holders0.length !== 1)
    throw new Error(
      `${cluster.name}/${vip.name} is held by ${holders0.length ? holders0.join(' and ') : 'nobody'}: a failover needs exactly one holder to start from`,
    );
  const plan = planFault(o.kind, o.target, holders0[0]);
  const master = plan.oldMaster;
  const t = o.transports.get(master)!;
  const ft: FaultTarget = {
    serviceManager: o.facts.get(master)?.serviceManager ?? 'sysvinit',
    peers: cluster.lbs.filter((lb) => lb.name !== master).map((lb) => lb.vrrpAddress ?? lb.address),
    family: vip.family,
  };
  const fault = buildFault(o.kind, ft);
  if (fault.precheck) {
    const r = await t.exec(fault.precheck, { timeoutMs: 15_000 });
    if (r.code !== 0)
      throw new Error(`${master}: cannot inject ${o.kind}: ${r.stderr.trim() || `precheck exit ${r.code}`}`);
  }

  const stableHolders = (what: string, timeoutMs: number, want: (h: string[]) => boolean, signal?: AbortSignal) => {
    let last = '';
    let since = Date.now();
    return waitFor(
      () => {
        const failure = o.watch.failure();
        if (failure) throw failure;
        const h = o.watch.holders(ip);
        if (h.join() !== last) {
          last = h.join();
          since = Date.now();
        }
        return Date.now() - since >= timing.stableMs && want(h) ? h : undefined;
      },
      { timeoutMs, intervalMs: 50, what, signal },
    );
  };
  const waitHolders = (what: string, timeoutMs: number, want: (h: string[]) => boolean, signal?: AbortSignal) =>
    waitFor(
      () => {
        const failure = o.watch.failure();
        if (failure) throw failure;
        const h = o.watch.holders(ip);
        return want(h) ? h : undefined;
      },
      { timeoutMs, intervalMs: 50, what, signal },
    );

  const eventsBefore = o.watch.events(ip).length;
  let probe: RunningProbe | undefined;
  let armed = false;
  let restore = { ok: true, detail: 'nothing to restore' };
  let error: string | undefined;
  const times: FaultTimes = { start, injectAt: 0, injectDoneAt: 0, end: 0 };
  const undo = async () => {
    times.undoAt = Date.now();
    let detail = '';
    for (let attempt = 1; attempt <= 3; attempt++) {
      try {
        const r = await t.exec(`${fault.undo}\n${restoredCheck(o.kind, ft)}`, { timeoutMs: UNDO_TIMEOUT_MS });
        if (r.code === 0) {
          armed = false;
          times.undoDoneAt = Date.now();
          return {
            ok: true,
            detail: `${fault.undo.length > 80 ? 'rules removed' : fault.undo}${attempt > 1 ? ` (attempt ${attempt})` : ''}`,
          };
        }
        detail = `exit ${r.code}: ${(r.stderr || r.stdout).trim()}`;
      } catch (e) {
        detail = (e as Error).message;
      }
    }
    times.undoDoneAt = Date.now();
    return { ok: false, detail: `${master}: undoing ${o.kind} failed: ${detail}. Run by hand: ${fault.undo}` };
  };

  try {
    probe = startProbe({
      ip,
      port: o.http.port,
      path: o.http.path,
      hostHeader: o.http.host,
      ratePerSec: o.rate,
      durationMs: 300_000,
      timeoutMs: 1000,
    });
    say(
      `${plan.kind}: probing http://${o.http.host}${o.http.path} via ${ip}:${o.http.port} at ${o.rate}/s; ${master} holds ${vip.name}`,
    );
    await stableHolders(
      `${vip.name} settled before the fault`,
      timing.baselineMs + 10_000,
      (h) => h.length === 1 && h[0] === master,
      o.signal,
    ).catch((e) => {
      if (o.signal.aborted) throw e;
      throw new Error(`${vip.name} did not stay on ${master} before the fault: ${(e as Error).message}`);
    });
    armed = true; // from here on the finally undoes, even if the inject itself fails halfway
    times.injectAt = Date.now();
    say(`${plan.kind}: injecting on ${master}: ${fault.describe}`);
    const r = await t.exec(fault.inject, { timeoutMs: 30_000 });
    times.injectDoneAt = Date.now();
    if (r.code !== 0) throw new Error(`${master}: injecting ${o.kind} failed (exit ${r.code}): ${r.stderr.trim()}`);
    const moved = await waitHolders(
      `${vip.name} on a node other than ${master}`,
      plan.boundMs + 10_000,
      (h) => h.some((x) => x !== master),
      o.signal,
    );
    say(`${plan.kind}: ${vip.name} now on ${moved.join(' and ')}`);
    await stableHolders(`${vip.name} stable after the failover`, 20_000, () => true, o.signal);
    restore = await undo();
    say(`${plan.kind}: undone on ${master}: ${restore.ok ? 'ok' : restore.detail}`);
    if (restore.ok) {
      const want = (h: string[]) => (plan.preempt ? h.length === 1 && h[0] === master : h.length === 1);
      await stableHolders(
        plan.preempt ? `${vip.name} back on ${master} (preemption)` : `${vip.name} on exactly one node`,
        timing.failbackTimeoutMs,
        want,
        o.signal,
      );
    }
  } catch (e) {
    error = (e as Error).message;
  }
  {
    if (armed) {
      say(`${plan.kind}: restoring ${master}…`);
      restore = await undo();
      // Report the state the restore led to, bounded, and without the (possibly aborted) signal.
      await waitHolders(
        `${vip.name} on exactly one node after restoring`,
        timing.failbackTimeoutMs,
        (h) => h.length === 1,
      ).catch(() => undefined);
    }
    times.end = Date.now();
    const probes = probe ? await probe.stop() : [];
    if (!times.injectAt) times.injectAt = times.injectDoneAt = times.end;
    const report = computeReport({
      plan,
      probes,
      events: o.watch.events(ip).slice(eventsBefore),
      initialHolders: holders0,
      times,
      rate: o.rate,
      restore,
      ...(error && !o.signal.aborted ? { error } : {}),
      aborted: o.signal.aborted,
    });
    return { plan, report, probes, times };
  }
}
