/** verify for people (a table per cluster), for cron (--quiet) and for machines (--json). */
import type { VerifyReport } from '../verify/verify.js';
import type { Check } from '../verify/post-deploy.js';
import { bold, green, red, table, yellow } from './style.js';

export function formatVerify(r: VerifyReport, clusters: string[]): string {
  const out: string[] = [];
  for (const c of clusters) {
    const rows = r.checks.filter((x) => x.cluster === c);
    out.push(bold(`cluster ${c}`));
    out.push(
      table(
        rows.map((x) => [
          x.kind,
          x.target,
          !x.ok ? red('FAIL') : x.warning ? yellow('warn') : green('ok'),
          x.detail.split('\n')[0],
        ]),
        ['check', 'target', 'result', 'detail'],
      ),
    );
    for (const x of rows.filter((y) => !y.ok && y.detail.includes('\n')))
      out.push('', red(`${x.target}:`), x.detail.split('\n').slice(1).join('\n'));
    const findings = r.findings.filter((f) => r.vips.some((v) => v.cluster === c && v.name === f.vip));
    if (findings.length) {
      out.push('', yellow('diagnosis:'));
      for (const f of findings) out.push(`  ${f.vip} on ${f.node}: ${f.cause}: ${f.evidence}\n    fix: ${f.fix}`);
    }
    out.push('');
  }
  const failed = r.checks.filter((x) => !x.ok).length;
  const warned = r.checks.filter((x) => x.ok && x.warning).length;
  const warnings = warned ? `, ${warned} warning${warned === 1 ? '' : 's'}` : '';
  out.push(
    failed
      ? red(`${failed} of ${r.checks.length} checks failed${warnings} (${r.durationMs} ms)`)
      : (warned ? yellow : green)(`all ${r.checks.length} checks passed${warnings} (${r.durationMs} ms)`),
  );
  return out.join('\n');
}

/**
 * One line per problem, nothing when healthy: for cron. A certificate near its expiry is a line
 * too (exit 0), so the mail arrives weeks before the expiry fails verify; other warnings (nodes
 * on different versions during an upgrade) are not repeated every run.
 */
export function quietVerify(r: VerifyReport): string[] {
  return [
    ...r.checks
      .filter((x) => !x.ok)
      .map((x) => `hactl verify: ${x.cluster}: ${x.kind} ${x.target}: ${x.detail.split('\n')[0]}`),
    ...r.checks
      .filter((x) => x.ok && x.warning && x.kind === 'tls-expiry')
      .map((x) => `hactl verify: warning: ${x.cluster}: ${x.kind} ${x.target}: ${x.detail.split('\n')[0]}`),
    ...r.findings.map((f) => `hactl verify: diagnosis: ${f.vip} on ${f.node}: ${f.cause}: ${f.evidence}`),
  ];
}

/**
 * The stable `verify --json` document. Fields may be added; none is renamed or removed.
 * - `ok`: every check passed (the exit code is 0 exactly when this is true).
 * - `checks[]`: one per check: `kind` (keepalived, nginx, nginx -t, sysctl, drift, backend,
 *   site, vip, ssh; for TLS sites tls-cert, tls-chain, tls-expiry, tls-redirect), `cluster`,
 *   `target` (host and object checked), `ok`, `detail` (first line is a summary; drift details
 *   carry a masked diff on the following lines), `warning` (passed but needs attention soon:
 *   a certificate within its expiry_warning_days), `data` (TLS checks: servername, expected and
 *   served certificate with fingerprint and dates, protocol, trust, daysLeft).
 * - `vips[]`: per VIP: `address` (cidr), `holders` (load balancers that have it now), `master`,
 *   `health` (ok, failed-over, down, split-brain, unknown).
 * - `findings[]`: split-brain and configuration diagnosis: `node`, `cause`, `evidence`, `fix`.
 */
export interface VerifyJson {
  ok: boolean;
  /** One line: how many checks failed. */
  message: string;
  durationMs: number;
  checks: Check[];
  vips: { cluster: string; name: string; address: string; master: string; holders: string[]; health: string }[];
  findings: { vip: string; node: string; cause: string; evidence: string; fix: string }[];
}

export function verifyJson(r: VerifyReport): VerifyJson {
  const failed = r.checks.filter((c) => !c.ok).length;
  return {
    ok: r.ok,
    message: failed ? `${failed} of ${r.checks.length} checks failed` : `all ${r.checks.length} checks passed`,
    durationMs: r.durationMs,
    checks: r.checks.map((c) => ({
      kind: c.kind,
      cluster: c.cluster,
      target: c.target,
      ok: c.ok,
      detail: c.detail,
      ...(c.warning ? { warning: true } : {}),
      ...(c.data ? { data: c.data } : {}),
    })),
    vips: r.vips.map((v) => ({
      cluster: v.cluster,
      name: v.name,
      address: v.address,
      master: v.master,
      holders: v.holders,
      health: v.health,
    })),
    findings: r.findings.map((f) => ({ vip: f.vip, node: f.node, cause: f.cause, evidence: f.evidence, fix: f.fix })),
  };
}
