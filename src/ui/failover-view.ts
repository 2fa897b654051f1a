/** failover-test for people (a table, notes, a probe timeline) and for machines (--json). */
import type { FailoverTestResult, Preview } from '../failover/failover-test.js';
import type { FaultRun } from '../failover/runner.js';
import type { ClientFigures, ProbeSample } from '../failover/report.js';
import type { UndoResult } from '../failover/undo.js';
import type { VerifyReport } from '../verify/verify.js';
import { bold, dim, green, red, table, yellow } from './style.js';

const s = (ms: number | undefined) => (ms === undefined ? '—' : `${(ms / 1000).toFixed(2)} s`);

export function formatPreview(p: Preview): string {
  const out = [bold('failover-test will, for each fault, on the current holder of the VIP:')];
  p.plans.forEach((plan, i) => {
    out.push(
      `  ${bold(plan.kind)} on ${plan.oldMaster} (${plan.cluster}/${plan.vip} ${plan.ip}): ${p.faults[i].describe}`,
    );
    out.push(
      `    expected: ${p.faults[i].expect}; ${plan.expectedNewMaster} takes over within ${s(plan.boundMs)} (${plan.boundFormula})`,
    );
    out.push(`    then undone: ${p.faults[i].undoSummary}`);
    out.push(
      `    and undone by itself after ${p.maxFaultSeconds[i]} s at the latest, by a watchdog on ${plan.oldMaster}, if hactl cannot (killed, disconnected)`,
    );
  });
  const kinds = p.http.clients.map((c) => (c === 'new' ? 'new connections' : 'keep-alive connections')).join(' and ');
  out.push(
    `Clients: ${p.http.rate} requests/s (${kinds}) to ${p.http.url} during each fault: some will fail while the VIP moves.`,
  );
  out.push('Every fault is undone on success, error, timeout or Ctrl-C; the cluster is verified before and after.');
  return out.join('\n');
}

const rel = (ms: number) => `${ms < 0 ? '−' : '+'}${(Math.abs(ms) / 1000).toFixed(2)} s`;

/**
 * One character per time slot: '=' all answered, 'X' all failed, 'x' some failed, ' ' no
 * request sent in that slot. The axis is seconds relative to the fault.
 */
export function timeline(
  probes: readonly ProbeSample[],
  marks: { t: number; label: string }[],
  from: number,
  to: number,
  origin: number,
  width = 64,
): string[] {
  const span = Math.max(1, to - from);
  const slot = (t: number) => Math.min(width - 1, Math.max(0, Math.floor(((t - from) / span) * width)));
  const ok = new Array<number>(width).fill(0);
  const bad = new Array<number>(width).fill(0);
  for (const p of probes) (p.ok ? ok : bad)[slot(p.t)]++;
  const row = ok.map((n, i) => (bad[i] === 0 ? (n ? green('=') : ' ') : n === 0 ? red('X') : yellow('x'))).join('');
  const markRow = new Array<string>(width).fill(' ');
  for (const m of marks) markRow[slot(m.t)] = '^';
  const left = rel(from - origin);
  const right = rel(to - origin);
  return [
    `clients |${row}|`,
    `        |${markRow.join('')}|`,
    `         ${left}${' '.repeat(Math.max(1, width - left.length - right.length))}${right}`,
    dim(`         ${marks.map((m) => `^ ${m.label} ${rel(m.t - origin)}`).join('   ')}`),
  ];
}

function row(r: FaultRun): string[] {
  const x = r.report;
  const fb = !x.failback.preempt
    ? 'preemption off'
    : x.failback.backMs === undefined
      ? '—'
      : `${s(x.failback.backMs)}, down ${s(x.failback.figures?.downtimeMs)}`;
  return [
    x.fault,
    `${x.oldMaster} → ${x.newMaster ?? '?'}${x.newMaster && x.newMaster !== x.expectedNewMaster ? ` (expected ${x.expectedNewMaster})` : ''}`,
    s(x.vipMovedMs),
    s(x.failover.downtimeMs),
    `${x.failover.failed}/${x.failover.requests}`,
    `${s(x.boundMs)} + ${s(x.marginMs)}`,
    fb,
    x.pass ? green('pass') : red('FAIL'),
  ];
}

function verifyLine(label: string, v: VerifyReport | undefined): string {
  if (!v) return `${label}: not run`;
  const failed = v.checks.filter((c) => !c.ok);
  return failed.length
    ? red(
        `${label}: ${failed.length} check(s) failed: ${failed.map((c) => `${c.kind} ${c.target}: ${c.detail.split('\n')[0]}`).join('; ')}`,
      )
    : green(`${label}: all ${v.checks.length} checks passed`);
}

/** "keep-alive clients: 3 of 140 failed (timeout 2, ECONNRESET 1), down 1.20 s; 2 retried once and answered". */
export function clientLine(c: ClientFigures): string {
  const errors = Object.entries(c.errors)
    .map(([e, n]) => `${e} ${n}`)
    .join(', ');
  const who = c.client === 'new' ? 'new-connection clients' : 'keep-alive clients';
  const retried = c.client === 'keepalive' ? `; ${c.retried} retried once (as HTTP allows) and answered` : '';
  return `${who}: ${c.failover.failed} of ${c.failover.requests} failed during the fault${errors ? ` (${errors})` : ''}, down ${s(c.failover.downtimeMs)}; ${c.total.failed} of ${c.total.requests} in all${retried}`;
}

export function formatFailover(r: FailoverTestResult): string {
  const out: string[] = [];
  if (r.phase === 'verify-before')
    return [
      verifyLine('verify before', r.before),
      red('refused: the cluster is not healthy; fix it (hactl verify) before testing a failover'),
    ].join('\n');
  if (r.phase === 'cancelled') return 'cancelled: nothing was changed';
  out.push(bold(`failover-test ${r.target.cluster}/${r.target.vip} ${r.target.ip}`));
  if (r.runs.length)
    out.push(
      table(r.runs.map(row), [
        'fault',
        'master',
        'VIP moved',
        'downtime',
        'failed',
        'bound + margin',
        'failback',
        'verdict',
      ]),
    );
  for (const run of r.runs) {
    const x = run.report;
    out.push('', bold(`${x.fault}`) + dim(` (bound ${x.boundFormula})`));
    out.push(
      ...timeline(
        run.probes,
        [
          { t: run.times.injectAt, label: 'fault' },
          ...(run.times.undoAt ? [{ t: run.times.undoAt, label: 'undo' }] : []),
        ],
        run.times.start,
        run.times.end,
        run.times.injectAt,
      ),
    );
    if (x.vipLeftMs !== undefined) out.push(`  ${x.oldMaster} released the VIP after ${s(x.vipLeftMs)}`);
    for (const c of x.clients) out.push(`  ${clientLine(c)}`);
    for (const n of x.notes) out.push(`  note: ${n}`);
    for (const o of x.failover.outages)
      out.push(
        `  outage: ${s(o.fromMs)} → ${o.toMs === undefined ? 'never recovered' : s(o.toMs)} after the fault (${o.failed} failed)`,
      );
    out.push(
      `  restore: ${x.restore.ok ? green(x.restore.detail) : red(x.restore.detail)}; VIP now on ${x.finalHolders.join(' and ') || 'nobody'}`,
    );
    for (const reason of x.reasons) out.push(red(`  FAIL: ${reason}`));
  }
  for (const sk of r.skipped) out.push(red(`${sk.fault}: not run: ${sk.reason}`));
  out.push('', verifyLine('verify after', r.after));
  if (r.aborted) out.push(yellow('interrupted: the fault in flight was undone'));
  out.push(r.ok ? green(`all ${r.runs.length} fault(s) passed`) : red('failover-test failed'));
  return out.join('\n');
}

const verifyJson = (v: VerifyReport | undefined) =>
  v && {
    ok: v.ok,
    failed: v.checks.filter((c) => !c.ok).map((c) => ({ kind: c.kind, target: c.target, detail: c.detail })),
    vips: v.vips.map((x) => ({ cluster: x.cluster, name: x.name, holders: x.holders })),
  };

function failoverMessage(r: FailoverTestResult): string {
  if (r.phase === 'verify-before') return 'the cluster was unhealthy before the test: nothing was broken';
  if (r.phase === 'cancelled') return 'cancelled: nothing was broken';
  if (r.aborted) return 'interrupted; every fault injected was undone';
  if (r.restoreFailed) return 'a fault could not be undone: restore that host by hand';
  const failed = r.runs.filter((x) => !x.report.pass).length + r.skipped.length;
  return failed
    ? `${failed} of ${r.runs.length + r.skipped.length} fault(s) failed`
    : `all ${r.runs.length} fault(s) passed`;
}

const clientJson = (c: ClientFigures) => ({
  client: c.client,
  failedRequests: c.failover.failed,
  totalRequests: c.failover.requests,
  downtimeMs: c.failover.downtimeMs,
  outages: c.failover.outages,
  failback: c.failback
    ? { failedRequests: c.failback.failed, totalRequests: c.failback.requests, downtimeMs: c.failback.downtimeMs }
    : null,
  allRequests: c.total.requests,
  allFailed: c.total.failed,
  retried: c.retried,
  errors: c.errors,
});

/** One fault of the --json document. Times are ms after the fault was injected. */
function faultJson({ report: x, probes, times }: FaultRun) {
  return {
    fault: x.fault,
    cluster: x.cluster,
    vip: x.vip,
    oldMaster: x.oldMaster,
    expectedNewMaster: x.expectedNewMaster,
    newMaster: x.newMaster ?? null,
    vipLeftMs: x.vipLeftMs ?? null,
    vipMovedMs: x.vipMovedMs ?? null,
    staleVipOnOldMaster: x.staleVipOnOldMaster,
    downtimeMs: x.failover.downtimeMs,
    failedRequests: x.failover.failed,
    totalRequests: x.failover.requests,
    outages: x.failover.outages,
    boundMs: x.boundMs,
    boundFormula: x.boundFormula,
    marginMs: x.marginMs,
    failback: {
      preempt: x.failback.preempt,
      backMs: x.failback.backMs ?? null,
      downtimeMs: x.failback.figures?.downtimeMs ?? null,
      failedRequests: x.failback.figures?.failed ?? null,
      totalRequests: x.failback.figures?.requests ?? null,
    },
    splitBrain: x.splitBrain,
    finalHolders: x.finalHolders,
    healed: x.healed,
    clients: x.clients.map(clientJson),
    watchdog: x.watchdog ?? null,
    restore: x.restore,
    pass: x.pass,
    reasons: x.reasons,
    notes: x.notes,
    aborted: x.aborted,
    times: {
      startMs: times.start - times.injectAt,
      injectDoneMs: times.injectDoneAt - times.injectAt,
      undoMs: times.undoAt !== undefined ? times.undoAt - times.injectAt : null,
      undoDoneMs: times.undoDoneAt !== undefined ? times.undoDoneAt - times.injectAt : null,
      endMs: times.end - times.injectAt,
      injectAtEpochMs: times.injectAt,
    },
    probes: probes.map((p) => ({
      t: p.t - times.injectAt,
      ok: p.ok,
      latencyMs: p.latencyMs,
      status: p.status ?? null,
      error: p.error ?? null,
      lb: p.lb ?? null,
      upstream: p.upstream ?? null,
      client: p.client ?? 'new',
      retriedAfter: p.retriedAfter ?? null,
    })),
  };
}

/** The stable --json document. Times are ms after the fault was injected. */
export function failoverJson(r: FailoverTestResult) {
  return {
    ok: r.ok,
    message: failoverMessage(r),
    phase: r.phase,
    aborted: r.aborted,
    restoreFailed: r.restoreFailed,
    target: r.target,
    before: verifyJson(r.before),
    faults: r.runs.map(faultJson),
    skipped: r.skipped,
    after: verifyJson(r.after) ?? null,
  };
}

/** --undo for people: per host what was found and what is left. */
export function formatUndo(r: UndoResult): string {
  const out: string[] = [];
  for (const h of r.hosts) {
    const name = `${h.cluster}/${h.host}`;
    if (h.error) {
      out.push(red(`${name}: not undone: ${h.error}`));
      continue;
    }
    if (h.found.length === 0 && h.remaining.length === 0) {
      out.push(`${name}: nothing of hactl's left`);
      continue;
    }
    out.push(bold(`${name}: found`));
    for (const f of h.found) out.push(`  ${f}`);
    const a = h.actions;
    if (a) {
      for (const id of a.undone) out.push(green(`  undone: ${id}`));
      for (const id of a.waited) out.push(`  its watchdog was undoing ${id}: waited for it`);
      for (const f of a.failed) out.push(red(`  could not undo ${f.id}: ${f.why}`));
      if (!a.sweepOk) out.push(red('  removing the rules marked hactl-failover-test failed'));
    }
    for (const x of h.remaining) out.push(red(`  still there: ${x}`));
    if (h.remaining.length === 0) out.push(green('  now clean'));
  }
  out.push(
    r.ok ? green("nothing of hactl's is left on any load balancer") : red("some of hactl's faults are still in place"),
  );
  return out.join('\n');
}

export function undoJson(r: UndoResult) {
  return {
    ok: r.ok,
    message: r.ok ? "nothing of hactl's is left on any load balancer" : "some of hactl's faults are still in place",
    hosts: r.hosts.map((h) => ({
      cluster: h.cluster,
      host: h.host,
      error: h.error ?? null,
      found: h.found,
      records: h.before?.records ?? [],
      rules: h.before?.rules.length ?? 0,
      undone: h.actions?.undone ?? [],
      waited: h.actions?.waited ?? [],
      failed: h.actions?.failed ?? [],
      remaining: h.remaining,
    })),
  };
}
