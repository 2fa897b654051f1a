/** hactl releases for people (a table per cluster) and for machines (--json). */
import type { ClusterReleases } from '../release/view.js';
import { bold, dim, green, table, yellow } from './style.js';

function hostsCell(r: ClusterReleases['rows'][number]): string {
  const parts = [r.hosts.join(' ')];
  if (r.unchanged.length) parts.push(dim(`(unchanged: ${r.unchanged.join(' ')})`));
  if (r.missing.length) parts.push(yellow(`missing on ${r.missing.join(' ')}`));
  return parts.join(' ');
}

export function formatReleases(views: ClusterReleases[]): string {
  const out: string[] = [];
  for (const v of views) {
    out.push(bold(`cluster ${v.cluster}`) + (v.current ? `: on ${v.current}` : dim(': no release recorded')));
    if (v.rows.length)
      out.push(
        table(
          v.rows.map((r) => [r.current ? green('*') : '', r.id, r.time, r.who, hostsCell(r)]),
          ['', 'release', 'when', 'who', 'hosts'],
        ),
      );
    for (const d of v.disagreements) out.push(yellow(`  hosts disagree: ${d}`));
    out.push('');
  }
  return out.join('\n').trimEnd();
}

/** The --json document: per cluster its current release, the rows newest first, and where hosts disagree. */
export function releasesJson(views: ClusterReleases[]) {
  const disagree = views.some((v) => v.disagreements.length > 0);
  return {
    ok: !disagree,
    message: disagree ? 'hosts disagree about their releases' : `releases of ${views.length} cluster(s)`,
    clusters: views,
  };
}
