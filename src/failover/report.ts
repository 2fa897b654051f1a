/**
 * From what was observed (the probe log, the VIP holder changes, when the fault went in and
 * came out) to the numbers and the verdict. Pure: no clock, no I/O, so every figure can be
 * checked against a hand-made log.
 */
import type { FaultPlan } from './plan.js';

/** The part of a probe result the report reads (verify/probe.ts ProbeResult fits). */
export interface ProbeSample {
  /** Epoch ms the request was sent. */
  t: number;
  ok: boolean;
  latencyMs: number;
  status?: number;
  error?: string;
  lb?: string;
  upstream?: string;
  /** new: a connection per request; keepalive: persistent connections. Absent: new. */
  client?: ClientKind;
  /** A keep-alive request retried once (HTTP allows it): the first attempt's error. */
  retriedAfter?: string;
}

export type ClientKind = 'new' | 'keepalive';

/** What one kind of client saw. */
export interface ClientFigures {
  client: ClientKind;
  failover: PhaseFigures;
  failback?: PhaseFigures;
  total: { requests: number; failed: number };
  /** Requests that failed once and succeeded on the one retry HTTP allows (keepalive only). */
  retried: number;
  /** Failed requests by error (timeout, ECONNRESET, ECONNREFUSED, HTTP 502…). */
  errors: Record<string, number>;
}

/** The watchdog that would have undone the fault by itself. */
export interface WatchdogOutcome {
  maxSeconds: number;
  /** cancelled: the normal undo ran first; fired: the maximum fault time was reached first; armed: never cancelled. */
  outcome: 'cancelled' | 'fired' | 'armed';
}

/** One node gained or lost the VIP, as seen by the poller (epoch ms). */
export interface HolderEvent {
  t: number;
  lb: string;
  held: boolean;
}

export interface FaultTimes {
  /** Probe and watcher running, baseline begins. */
  start: number;
  /** Inject command sent / finished. */
  injectAt: number;
  injectDoneAt: number;
  /** Undo command sent / finished (absent when it never ran). */
  undoAt?: number;
  undoDoneAt?: number;
  end: number;
}

export interface ReportInput {
  plan: FaultPlan;
  probes: readonly ProbeSample[];
  events: readonly HolderEvent[];
  initialHolders: readonly string[];
  times: FaultTimes;
  rate: number;
  restore: { ok: boolean; detail: string };
  error?: string;
  aborted?: boolean;
  watchdog?: WatchdogOutcome;
}

export interface Outage {
  /** Send time of the last success before the failures (ms after inject). */
  fromMs: number;
  /** Send time of the first success after them (ms after inject); absent: never recovered. */
  toMs?: number;
  durationMs: number;
  failed: number;
}

export interface SplitBrain {
  fromMs: number;
  toMs?: number;
  holders: string[];
}

export interface PhaseFigures {
  requests: number;
  failed: number;
  downtimeMs: number;
  outages: Outage[];
}

export interface FaultReport {
  fault: FaultPlan['kind'];
  cluster: string;
  vip: string;
  oldMaster: string;
  expectedNewMaster: string;
  newMaster?: string;
  /** ms after inject until the old master no longer held the VIP; absent: it kept it (stale address). */
  vipLeftMs?: number;
  /** ms after inject until the new master held the VIP. */
  vipMovedMs?: number;
  staleVipOnOldMaster: boolean;
  /** The verdict's client kind (new when probed, else keepalive). */
  failover: PhaseFigures;
  failback: { preempt: boolean; backMs?: number; figures?: PhaseFigures };
  /** Per client kind probed. */
  clients: ClientFigures[];
  watchdog?: WatchdogOutcome;
  splitBrain: SplitBrain[];
  finalHolders: string[];
  healed: boolean;
  total: { requests: number; failed: number };
  boundMs: number;
  boundFormula: string;
  marginMs: number;
  pass: boolean;
  reasons: string[];
  notes: string[];
  restore: { ok: boolean; detail: string };
  error?: string;
  aborted: boolean;
}

/** Probe resolution (one interval at each edge of an outage) plus 300 ms of scheduling slack. */
export function marginMs(rate: number): number {
  return Math.round(2000 / rate + 300);
}

/** Failure runs whose first failure was sent in [from, to), each from the last success before to the first success after. */
export function outages(probes: readonly ProbeSample[], from: number, to: number, origin: number): Outage[] {
  const sorted = [...probes].sort((a, b) => a.t - b.t);
  const out: Outage[] = [];
  for (let i = 0; i < sorted.length; i++) {
    if (sorted[i].ok || sorted[i].t < from || sorted[i].t >= to) continue;
    const start = i > 0 && sorted[i - 1].ok ? sorted[i - 1].t : sorted[i].t;
    let j = i;
    while (j < sorted.length && !sorted[j].ok) j++;
    const end = j < sorted.length ? sorted[j].t : undefined;
    const last = sorted[j - 1];
    out.push({
      fromMs: start - origin,
      ...(end !== undefined ? { toMs: end - origin } : {}),
      durationMs: (end ?? last.t + last.latencyMs) - start,
      failed: j - i,
    });
    i = j - 1;
  }
  return out;
}

function figures(probes: readonly ProbeSample[], from: number, to: number, origin: number): PhaseFigures {
  const inside = probes.filter((p) => p.t >= from && p.t < to);
  const o = outages(probes, from, to, origin);
  return {
    requests: inside.length,
    failed: inside.filter((p) => !p.ok).length,
    downtimeMs: o.reduce((s, x) => s + x.durationMs, 0),
    outages: o,
  };
}

const kindOf = (p: ProbeSample): ClientKind => p.client ?? 'new';

function clientFigures(i: ReportInput, kind: ClientKind): ClientFigures {
  const probes = i.probes.filter((p) => kindOf(p) === kind);
  const { times } = i;
  const origin = times.injectAt;
  const errors: Record<string, number> = {};
  for (const p of probes)
    if (!p.ok) {
      const e = p.error ?? `HTTP ${p.status ?? 0}`;
      errors[e] = (errors[e] ?? 0) + 1;
    }
  return {
    client: kind,
    failover: figures(probes, origin, times.undoAt ?? times.end, origin),
    ...(times.undoAt !== undefined ? { failback: figures(probes, times.undoAt, times.end + 1, origin) } : {}),
    total: { requests: probes.length, failed: probes.filter((p) => !p.ok).length },
    retried: probes.filter((p) => p.ok && p.retriedAfter).length,
    errors,
  };
}

/** Holder sets after each event, starting from the initial holders. */
export function holderHistory(
  initial: readonly string[],
  events: readonly HolderEvent[],
): { t: number; holders: string[] }[] {
  const now = new Set(initial);
  return [...events]
    .sort((a, b) => a.t - b.t)
    .map((e) => {
      if (e.held) now.add(e.lb);
      else now.delete(e.lb);
      return { t: e.t, holders: [...now].sort() };
    });
}

/**
 * Periods with more than one holder, ms after `origin`. A handover (the preempting master adds
 * the VIP, the old one drops it on its next advert) overlaps for less than one advert
 * interval: that is not split brain.
 */
function splitBrains(after: { t: number; holders: string[] }[], origin: number, advertInt: number): SplitBrain[] {
  const all: SplitBrain[] = [];
  let open: SplitBrain | undefined;
  for (const h of after) {
    if (h.holders.length > 1) {
      if (!open || open.holders.join() !== h.holders.join()) {
        if (open) open.toMs = h.t - origin;
        open = { fromMs: h.t - origin, holders: h.holders };
        all.push(open);
      }
    } else if (open) {
      open.toMs = h.t - origin;
      open = undefined;
    }
  }
  return all.filter((x) => x.toMs === undefined || x.toMs - x.fromMs >= advertInt * 1000);
}

const STALE_WHY: Partial<Record<FaultPlan['kind'], string>> = {
  'kill-keepalived': 'SIGKILL gives keepalived no time to remove it',
  isolate: 'isolated, it hears no adverts and still believes it is master; clients could not reach it there',
  freeze: 'its keepalived was frozen and could not remove it',
};

function staleNote(plan: FaultPlan): string {
  const why = STALE_WHY[plan.kind] ?? 'it still believes it is master';
  const end = plan.kind === 'kill-keepalived' ? ' and keepalived restarted there, which removed the stale address' : '';
  return `${plan.oldMaster} kept the VIP on its interface after the fault (${why}): both held it until the fault was undone${end}`;
}

export function computeReport(i: ReportInput): FaultReport {
  const { plan, times } = i;
  const origin = times.injectAt;
  const undoAt = times.undoAt ?? times.end;
  const history = holderHistory(i.initialHolders, i.events);
  const after = history.filter((h) => h.t >= origin);
  const left = i.events
    .filter((e) => e.t >= origin && e.t < undoAt && e.lb === plan.oldMaster && !e.held)
    .sort((a, b) => a.t - b.t)[0];
  const moved = i.events.filter((e) => e.t >= origin && e.lb !== plan.oldMaster && e.held).sort((a, b) => a.t - b.t)[0];
  const holdersAt = (t: number) =>
    [...history].reverse().find((h) => h.t <= t)?.holders ?? [...i.initialHolders].sort();
  const stale = moved !== undefined && holdersAt(moved.t).includes(plan.oldMaster);

  const splitBrain = splitBrains(after, origin, plan.advertInt);

  const finalHolders = history.at(-1)?.holders ?? [...i.initialHolders].sort();
  const kinds = (['new', 'keepalive'] as const).filter((k) => i.probes.some((p) => kindOf(p) === k));
  const clients = kinds.map((k) => clientFigures(i, k));
  const primary = i.probes.filter((p) => kindOf(p) === (kinds[0] ?? 'new'));
  const failover = figures(primary, origin, undoAt, origin);
  const failback: FaultReport['failback'] = { preempt: plan.preempt };
  if (times.undoAt !== undefined) {
    failback.figures = figures(primary, times.undoAt, times.end + 1, origin);
    if (plan.preempt) {
      const back = history.find(
        (h) => h.t >= times.undoAt! && h.holders.length === 1 && h.holders[0] === plan.oldMaster,
      );
      if (back) failback.backMs = back.t - times.undoAt;
    }
  }
  const margin = marginMs(i.rate);
  const reasons: string[] = [];
  const notes: string[] = [];
  if (i.aborted) reasons.push('interrupted before the test finished');
  if (i.error) reasons.push(i.error);
  if (!i.restore.ok) reasons.push(`restore failed: ${i.restore.detail}`);
  if (!moved) reasons.push(`the VIP never appeared on another node`);
  else if (moved.lb !== plan.expectedNewMaster)
    reasons.push(`the VIP moved to ${moved.lb}, expected ${plan.expectedNewMaster} (highest backup priority)`);
  if (failover.outages.some((o) => o.toMs === undefined))
    reasons.push('clients never got an answer again during the fault');
  else if (failover.downtimeMs > plan.boundMs + margin)
    reasons.push(`downtime ${failover.downtimeMs} ms exceeds the bound ${plan.boundMs} ms + margin ${margin} ms`);
  if (finalHolders.length !== 1)
    reasons.push(
      `after restoring, the VIP is held by ${finalHolders.length ? finalHolders.join(' and ') : 'nobody'}, not exactly one node`,
    );
  else if (plan.preempt && times.undoAt !== undefined && failback.backMs === undefined && !i.aborted)
    reasons.push(`preemption is on but ${plan.oldMaster} did not take the VIP back`);

  if (stale) notes.push(staleNote(plan));
  if (moved && moved.t - times.injectDoneAt > plan.boundMs + margin)
    notes.push(
      `the VIP appeared on ${moved.lb} ${moved.t - times.injectDoneAt} ms after the fault command finished, more than the bound + margin`,
    );
  if (!plan.preempt) notes.push('preemption off: the VIP stays on the new master; no failback expected');
  if (splitBrain.length)
    notes.push(
      `split brain: ${splitBrain.map((s) => `${s.holders.join('+')} from ${s.fromMs} ms${s.toMs !== undefined ? ` to ${s.toMs} ms` : ' (still)'}`).join('; ')}${finalHolders.length === 1 ? `; healed to exactly one holder (${finalHolders[0]})` : ''}`,
    );
  if (i.watchdog?.outcome === 'fired')
    notes.push(
      `the watchdog undid the fault by itself: its maximum fault time (${i.watchdog.maxSeconds} s) ran out before hactl undid it`,
    );
  const total = { requests: i.probes.length, failed: i.probes.filter((p) => !p.ok).length };
  return {
    fault: plan.kind,
    cluster: plan.cluster,
    vip: plan.vip,
    oldMaster: plan.oldMaster,
    expectedNewMaster: plan.expectedNewMaster,
    ...(moved ? { newMaster: moved.lb, vipMovedMs: moved.t - origin } : {}),
    ...(left ? { vipLeftMs: left.t - origin } : {}),
    staleVipOnOldMaster: stale,
    failover,
    failback,
    clients,
    ...(i.watchdog ? { watchdog: i.watchdog } : {}),
    splitBrain,
    finalHolders,
    healed: finalHolders.length === 1,
    total,
    boundMs: plan.boundMs,
    boundFormula: plan.boundFormula,
    marginMs: margin,
    pass: reasons.length === 0,
    reasons,
    notes,
    restore: i.restore,
    ...(i.error ? { error: i.error } : {}),
    aborted: i.aborted ?? false,
  };
}
