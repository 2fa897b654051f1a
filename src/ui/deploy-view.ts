/** Text for people: plans with diffs, the result table. Secrets are already masked by the core. */
import type { DeployResult } from '../run/deploy.js';
import type { HostPlan } from '../plan/plan.js';
import { describeCollision, type CensusReport } from '../verify/census.js';
import { bold, dim, green, red, table, yellow } from './style.js';

export function formatPlans(plans: HostPlan[], withDiffs: boolean): string {
  const out: string[] = [];
  for (const p of plans) {
    out.push(bold(`${p.cluster}/${p.host}: `) + (p.changed ? yellow(p.summary) : dim(p.summary)));
    if (!withDiffs) continue;
    for (const f of p.files.filter((x) => x.action !== 'unchanged')) {
      out.push(`  ${f.action} ${f.file.path} (${f.reasons.join(', ')})`);
      if (f.diff)
        out.push(
          f.diff
            .split('\n')
            .slice(2)
            .map((l) => `    ${l.startsWith('+') ? green(l) : l.startsWith('-') ? red(l) : l}`)
            .join('\n')
            .trimEnd(),
        );
    }
  }
  return out.join('\n');
}

export function formatResult(r: DeployResult): string {
  const rows = r.hosts.map((h) => [
    `${h.cluster}/${h.host}`,
    h.status === 'failed' ? red(h.status) : h.status === 'changed' ? green(h.status) : h.status,
    h.error ? h.error.split('\n')[0] : h.summary,
    `${h.roundTrips}`,
  ]);
  const out = [table(rows, ['host', 'result', 'detail', 'round trips'])];
  for (const h of r.hosts.filter((x) => x.error && x.error.includes('\n'))) out.push('', red(`${h.host}:`), h.error!);
  for (const h of r.hosts.filter((x) => x.staleLock))
    out.push(yellow(`${h.host}: a stale deploy lock from a holder that is gone was taken over (${h.staleLock})`));
  if (r.checks.length) {
    out.push(
      '',
      table(
        r.checks.map((c) => [c.kind, c.target, c.ok ? green('ok') : red('FAIL'), c.detail]),
        ['check', 'target', 'result', 'detail'],
      ),
    );
  }
  out.push(...formatCensus(r.census));
  out.push('', (r.ok ? green : red)(`${r.message} (${(r.durationMs / 1000).toFixed(2)} s)`));
  return out.join('\n');
}

/** What the VRID census heard, per cluster deployed for the first time. */
export function formatCensus(reports: readonly CensusReport[]): string[] {
  return reports.flatMap((c) => {
    const listened = c.listened.map((l) => `${l.lb} ${l.seconds}s (${l.method})`).join(', ');
    const head = `VRID census of ${c.cluster}: listened on ${listened}`;
    const found = [
      ...c.collisions.map((x) => red(`  ${describeCollision(c.cluster, x)}`)),
      ...c.problems.map((p) => red(`  ${p}`)),
      ...c.othersInUse.map((o) => dim(`  VRID ${o.vrid} is in use by ${o.from} (not one of this cluster's)`)),
      ...c.notes.map((n) => dim(`  ${n}`)),
    ];
    return ['', found.some((l) => l.includes('VRID ') && !l.includes('not one')) ? yellow(head) : head, ...found];
  });
}

/** The stable --json shape (README "JSON output"). */
export function deployJson(r: DeployResult) {
  return {
    ok: r.ok,
    dryRun: r.dryRun,
    phase: r.phase,
    message: r.message,
    aborted: r.aborted,
    durationMs: r.durationMs,
    hosts: r.hosts.map((h) => ({
      host: h.host,
      cluster: h.cluster,
      status: h.status,
      summary: h.summary,
      filesChanged: h.filesChanged,
      packagesInstalled: h.packagesInstalled,
      servicesReloaded: h.servicesReloaded,
      servicesStarted: h.servicesStarted,
      timings: h.timings,
      roundTrips: h.roundTrips,
      error: h.error ?? null,
      staleLock: h.staleLock ?? null,
      release: h.release ?? null,
    })),
    plans: r.plans.map((p) => ({
      host: p.host,
      changed: p.changed,
      summary: p.summary,
      files: p.files
        .filter((f) => f.action !== 'unchanged')
        .map((f) => ({ path: f.file.path, action: f.action, reasons: f.reasons, diff: f.diff })),
      packages: p.packages,
      reload: p.reload,
      start: p.start,
    })),
    checks: r.checks,
    census: r.census,
  };
}
