/** The report's numbers from hand-made probe logs and holder events: downtime, moves, split brain, verdicts. */
import {
  computeReport,
  holderHistory,
  marginMs,
  outages,
  type HolderEvent,
  type ProbeSample,
  type ReportInput,
} from '../../../src/failover/report.js';
import type { FaultPlan } from '../../../src/failover/plan.js';

const T0 = 1_700_000_000_000; // inject time
const plan = (over: Partial<FaultPlan> = {}): FaultPlan => ({
  kind: 'stop-keepalived',
  cluster: 'web',
  vip: 'vip1',
  ip: '10.0.0.100',
  oldMaster: 'lb1',
  expectedNewMaster: 'lb2',
  preempt: true,
  advertInt: 1,
  vrrpVersion: 2,
  boundMs: 609,
  boundFormula: 'skew',
  ...over,
});

/** A probe log at `rate`/s from `from` to `to` ms after the fault; `down(ms)` says which fail. */
function log(from: number, to: number, down: (ms: number) => boolean, rate = 20): ProbeSample[] {
  const out: ProbeSample[] = [];
  for (let ms = from; ms < to; ms += 1000 / rate)
    out.push({
      t: T0 + ms,
      ok: !down(ms),
      latencyMs: down(ms) ? 1000 : 2,
      ...(down(ms) ? { error: 'ETIMEDOUT' } : { status: 200, lb: 'lb1' }),
    });
  return out;
}

function input(over: Partial<ReportInput> = {}): ReportInput {
  const events: HolderEvent[] = [
    { t: T0 + 300, lb: 'lb1', held: false },
    { t: T0 + 700, lb: 'lb2', held: true },
    { t: T0 + 5200, lb: 'lb1', held: true },
    { t: T0 + 5300, lb: 'lb2', held: false },
  ];
  return {
    plan: plan(),
    rate: 20,
    restore: { ok: true, detail: 'started' },
    initialHolders: ['lb1'],
    events,
    probes: log(-2000, 8000, (ms) => ms >= 250 && ms < 750),
    times: {
      start: T0 - 2000,
      injectAt: T0,
      injectDoneAt: T0 + 100,
      undoAt: T0 + 5000,
      undoDoneAt: T0 + 5100,
      end: T0 + 8000,
    },
    ...over,
  };
}

describe('outages', () => {
  it('spans from the last success before the failures to the first success after', () => {
    const o = outages(
      log(-1000, 3000, (ms) => ms >= 250 && ms < 750),
      T0,
      T0 + 3000,
      T0,
    );
    // last ok sent at 200 ms, first ok after at 750 ms
    expect(o).toEqual([{ fromMs: 200, toMs: 750, durationMs: 550, failed: 10 }]);
  });

  it('counts separate failure runs separately and ignores failures outside the window', () => {
    const probes = log(-1000, 6000, (ms) => (ms >= 500 && ms < 600) || (ms >= 2000 && ms < 2200) || ms === -500);
    const o = outages(probes, T0, T0 + 5000, T0);
    expect(o.map((x) => [x.fromMs, x.toMs, x.failed])).toEqual([
      [450, 600, 2],
      [1950, 2200, 4],
    ]);
  });

  it('an outage that never recovers ends at the last answer and has no toMs', () => {
    const o = outages(
      log(0, 1000, (ms) => ms >= 500),
      T0,
      T0 + 1000,
      T0,
    );
    expect(o).toHaveLength(1);
    expect(o[0].toMs).toBeUndefined();
    expect(o[0].durationMs).toBe(950 + 1000 - 450);
  });

  it('no failures, no outage', () => {
    expect(
      outages(
        log(0, 1000, () => false),
        T0,
        T0 + 1000,
        T0,
      ),
    ).toEqual([]);
  });
});

describe('holderHistory', () => {
  it('applies gains and losses in time order', () => {
    const h = holderHistory(
      ['lb1'],
      [
        { t: 2, lb: 'lb1', held: false },
        { t: 1, lb: 'lb2', held: true },
      ],
    );
    expect(h).toEqual([
      { t: 1, holders: ['lb1', 'lb2'] },
      { t: 2, holders: ['lb2'] },
    ]);
  });
});

describe('computeReport', () => {
  it('graceful stop within the bound passes, with every figure from the logs', () => {
    const r = computeReport(input());
    expect(r).toMatchObject({
      fault: 'stop-keepalived',
      oldMaster: 'lb1',
      newMaster: 'lb2',
      expectedNewMaster: 'lb2',
      vipLeftMs: 300,
      vipMovedMs: 700,
      staleVipOnOldMaster: false,
      splitBrain: [],
      finalHolders: ['lb1'],
      healed: true,
      boundMs: 609,
      marginMs: 400,
      pass: true,
      reasons: [],
    });
    expect(r.failover).toMatchObject({ downtimeMs: 550, failed: 10, requests: 100 });
    expect(r.failback).toMatchObject({ preempt: true, backMs: 300 });
    expect(r.failback.figures).toMatchObject({ requests: 60, failed: 0, downtimeMs: 0 });
    expect(r.total).toEqual({ requests: 200, failed: 10 });
  });

  it('fails when the downtime exceeds bound + margin, and says by how much', () => {
    const r = computeReport(input({ probes: log(-2000, 8000, (ms) => ms >= 250 && ms < 1800) }));
    expect(r.failover.downtimeMs).toBe(1600);
    expect(r.pass).toBe(false);
    expect(r.reasons.join()).toMatch(/downtime 1600 ms exceeds the bound 609 ms \+ margin 400 ms/);
  });

  it('passes right at bound + margin and fails one step over', () => {
    // outage from last ok (200) to first ok: 200 + 609 + 400 = 1209 → first ok at 1200 passes, at 1250 fails
    expect(computeReport(input({ probes: log(-2000, 8000, (ms) => ms >= 250 && ms < 1200) })).pass).toBe(true);
    expect(computeReport(input({ probes: log(-2000, 8000, (ms) => ms >= 250 && ms < 1250) })).pass).toBe(false);
  });

  it('fails when the VIP went to another node than the expected backup', () => {
    const events = input().events.map((e) => (e.lb === 'lb2' ? { ...e, lb: 'lb3' } : e));
    const r = computeReport(input({ events }));
    expect(r.newMaster).toBe('lb3');
    expect(r.reasons.join()).toMatch(/moved to lb3, expected lb2/);
  });

  it('fails when the VIP never moved or clients never recovered', () => {
    const r = computeReport(input({ events: [], probes: log(-2000, 8000, (ms) => ms >= 250) }));
    expect(r.newMaster).toBeUndefined();
    expect(r.reasons).toEqual(
      expect.arrayContaining([expect.stringMatching(/never appeared/), expect.stringMatching(/never got an answer/)]),
    );
  });

  it('kill-keepalived: a stale VIP on the old master is split brain, reported and healed', () => {
    const events: HolderEvent[] = [
      { t: T0 + 3200, lb: 'lb2', held: true },
      { t: T0 + 5400, lb: 'lb1', held: false },
      { t: T0 + 5900, lb: 'lb1', held: true },
      { t: T0 + 7000, lb: 'lb2', held: false },
    ];
    const r = computeReport(
      input({ plan: plan({ kind: 'kill-keepalived', boundMs: 3609 }), events, probes: log(-2000, 8000, () => false) }),
    );
    expect(r.staleVipOnOldMaster).toBe(true);
    expect(r.vipLeftMs).toBeUndefined();
    expect(r.vipMovedMs).toBe(3200);
    expect(r.splitBrain).toEqual([
      { fromMs: 3200, toMs: 5400, holders: ['lb1', 'lb2'] },
      { fromMs: 5900, toMs: 7000, holders: ['lb1', 'lb2'] },
    ]);
    expect(r.failover.downtimeMs).toBe(0);
    expect(r.notes.join('\n')).toMatch(/SIGKILL.*stale address/);
    expect(r.notes.join('\n')).toMatch(/healed to exactly one holder \(lb1\)/);
    expect(r.pass).toBe(true);
  });

  it('a handover overlap shorter than one advert interval is not split brain', () => {
    const events: HolderEvent[] = [
      ...input().events.slice(0, 2),
      { t: T0 + 5200, lb: 'lb1', held: true },
      { t: T0 + 6199, lb: 'lb2', held: false },
    ];
    expect(computeReport(input({ events })).splitBrain).toEqual([]);
    events[3] = { ...events[3], t: T0 + 6200 };
    expect(computeReport(input({ events })).splitBrain).toEqual([
      { fromMs: 5200, toMs: 6200, holders: ['lb1', 'lb2'] },
    ]);
  });

  it('partition that does not heal fails', () => {
    const events: HolderEvent[] = [{ t: T0 + 3500, lb: 'lb2', held: true }];
    const r = computeReport(
      input({ plan: plan({ kind: 'partition', boundMs: 3609 }), events, probes: log(-2000, 8000, () => false) }),
    );
    expect(r.splitBrain).toEqual([{ fromMs: 3500, holders: ['lb1', 'lb2'] }]);
    expect(r.healed).toBe(false);
    expect(r.reasons.join()).toMatch(/held by lb1 and lb2, not exactly one/);
  });

  it('preemption off: no failback expected, the VIP staying on the new master passes', () => {
    const events = input().events.slice(0, 2);
    const r = computeReport(input({ plan: plan({ preempt: false }), events }));
    expect(r.failback.preempt).toBe(false);
    expect(r.failback.backMs).toBeUndefined();
    expect(r.finalHolders).toEqual(['lb2']);
    expect(r.notes.join()).toMatch(/preemption off/);
    expect(r.pass).toBe(true);
  });

  it('preemption on but no failback fails', () => {
    const r = computeReport(input({ events: input().events.slice(0, 2) }));
    expect(r.reasons.join()).toMatch(/did not take the VIP back/);
  });

  it('a failed restore or an interruption fails the verdict', () => {
    expect(computeReport(input({ restore: { ok: false, detail: 'exit 1' } })).reasons.join()).toMatch(
      /restore failed: exit 1/,
    );
    const r = computeReport(input({ aborted: true }));
    expect(r).toMatchObject({ pass: false, aborted: true });
  });

  it('margin is two probe intervals plus 300 ms', () => {
    expect(marginMs(20)).toBe(400);
    expect(marginMs(100)).toBe(320);
  });
});
