/**
 * verify as the Prometheus text exposition format (version 0.0.4), for node_exporter's textfile
 * collector or a pushgateway. Every family has HELP and TYPE, its samples together, each series
 * once. The VRRP state gauge uses the numbering of keepalived and of keepalived-exporter's
 * keepalived_vrrp_state (0 INIT, 1 BACKUP, 2 MASTER, 3 FAULT), so dashboards and alerts written
 * for that exporter read it the same way. Names and labels are listed in the README.
 */
import type { VerifyReport } from '../verify/verify.js';

type Labels = Record<string, string | number>;

interface Family {
  name: string;
  help: string;
  samples: { labels: Labels; value: number }[];
}

/** keepalived's own numbers (vrrp.h); STOP is keepalived's 98, 'down' (keepalived not running) has none. */
export const VRRP_STATE_VALUES: Record<string, number> = { INIT: 0, BACKUP: 1, MASTER: 2, FAULT: 3, STOP: 98 };

export const VIP_HEALTHS = ['ok', 'failed-over', 'down', 'split-brain', 'unknown'] as const;

const escapeLabel = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
const escapeHelp = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');

function sample(name: string, labels: Labels, value: number): string {
  const l = Object.entries(labels)
    .map(([k, v]) => `${k}="${escapeLabel(String(v))}"`)
    .join(',');
  const v = Number.isFinite(value) ? String(value) : Number.isNaN(value) ? 'NaN' : value > 0 ? '+Inf' : '-Inf';
  return `${name}${l ? `{${l}}` : ''} ${v}`;
}

/** Series once each: a repeated one keeps its lowest value (a check that failed anywhere stays failed). */
function unique(samples: Family['samples']): Family['samples'] {
  const byKey = new Map<string, Family['samples'][number]>();
  for (const s of samples) {
    const key = JSON.stringify(Object.entries(s.labels));
    const prev = byKey.get(key);
    if (!prev || s.value < prev.value) byKey.set(key, s);
  }
  return [...byKey.values()];
}

function families(r: VerifyReport, now: Date): Family[] {
  const failed = r.checks.filter((c) => !c.ok).length;
  const warnings = r.checks.filter((c) => c.ok && c.warning).length;
  const f = (name: string, help: string, samples: Family['samples']): Family => ({ name, help, samples });
  return [
    f('hactl_verify_ok', '1 when every check of hactl verify passed, else 0.', [{ labels: {}, value: r.ok ? 1 : 0 }]),
    f('hactl_verify_checks', 'Checks hactl verify ran, by result.', [
      { labels: { result: 'passed' }, value: r.checks.length - failed - warnings },
      { labels: { result: 'warning' }, value: warnings },
      { labels: { result: 'failed' }, value: failed },
    ]),
    f('hactl_verify_duration_seconds', 'How long hactl verify took.', [{ labels: {}, value: r.durationMs / 1000 }]),
    f('hactl_verify_timestamp_seconds', 'When hactl verify ran (Unix time): alert when it gets old.', [
      { labels: {}, value: Math.floor(now.getTime() / 1000) },
    ]),
    ...vipFamilies(r),
    ...nodeFamilies(r),
    ...checkFamilies(r, now),
  ];
}

function vipFamilies(r: VerifyReport): Family[] {
  const id = (v: VerifyReport['vips'][number]) => ({ cluster: v.cluster, vip: v.name, address: v.address });
  return [
    {
      name: 'hactl_vip_holders',
      help: 'Load balancers holding the VIP now (1 is healthy, 0 down, 2 or more split brain).',
      samples: r.vips.map((v) => ({ labels: id(v), value: v.holders.length })),
    },
    {
      name: 'hactl_vip_split_brain',
      help: '1 when more than one load balancer holds the VIP.',
      samples: r.vips.map((v) => ({ labels: id(v), value: v.health === 'split-brain' ? 1 : 0 })),
    },
    {
      name: 'hactl_vip_health',
      help: "The VIP's verdict as a state set: 1 for the current one of ok, failed-over, down, split-brain, unknown.",
      samples: r.vips.flatMap((v) =>
        VIP_HEALTHS.map((h) => ({ labels: { ...id(v), health: h }, value: v.health === h ? 1 : 0 })),
      ),
    },
  ];
}

function nodeFamilies(r: VerifyReport): Family[] {
  const nodes = [...new Map(r.nodes.map((n) => [`${n.cluster} ${n.node}`, n])).values()];
  const known = r.nodes.filter((n) => VRRP_STATE_VALUES[n.state] !== undefined);
  return [
    {
      name: 'hactl_keepalived_up',
      help: '1 when keepalived runs on the node.',
      samples: nodes.map((n) => ({ labels: { cluster: n.cluster, node: n.node }, value: n.keepalived ? 1 : 0 })),
    },
    {
      name: 'hactl_vip_held',
      help: '1 when the node holds the VIP address.',
      samples: r.nodes.map((n) => ({
        labels: { cluster: n.cluster, node: n.node, vip: n.vip },
        value: n.holdsVip ? 1 : 0,
      })),
    },
    {
      name: 'hactl_vrrp_state',
      help: "The node's VRRP state for the VIP, numbered as keepalived_vrrp_state: 0 INIT, 1 BACKUP, 2 MASTER, 3 FAULT (98 STOP).",
      samples: known.map((n) => ({
        labels: { cluster: n.cluster, node: n.node, iname: n.vip, intf: n.iface, vrid: n.vrid, ip_address: n.address },
        value: VRRP_STATE_VALUES[n.state],
      })),
    },
    {
      name: 'hactl_vrrp_priority',
      help: "The node's effective VRRP priority for the VIP (its configured priority adjusted by check weights).",
      samples: known.flatMap((n) =>
        n.priority === undefined
          ? []
          : [{ labels: { cluster: n.cluster, node: n.node, iname: n.vip }, value: n.priority }],
      ),
    },
  ];
}

function checkFamilies(r: VerifyReport, now: Date): Family[] {
  const drift = r.checks.filter((c) => c.kind === 'drift');
  const collisions = r.census.flatMap((c) => c.collisions.map((x) => ({ cluster: c.cluster, ...x })));
  return [
    {
      name: 'hactl_check_ok',
      help: '1 when the check passed, by its kind (keepalived, nginx, nginx -t, sysctl, drift, hook, backend, site, vip, ssh, versions, census, leftover, tls-cert, tls-chain, tls-expiry, tls-redirect) and target.',
      samples: unique(
        r.checks.map((c) => ({ labels: { cluster: c.cluster, kind: c.kind, target: c.target }, value: c.ok ? 1 : 0 })),
      ),
    },
    {
      name: 'hactl_file_drift',
      help: '1 when the managed file on the node differs from what the inventory renders (a hand edit, or not deployed).',
      samples: unique(
        drift.map((c) => {
          const cut = c.target.indexOf(':');
          return {
            labels: { cluster: c.cluster, node: c.target.slice(0, cut), path: c.target.slice(cut + 1) },
            value: c.ok ? 0 : 1,
          };
        }),
      ),
    },
    {
      name: 'hactl_tls_certificate_expiry_seconds',
      help: 'Seconds until the certificate served through the VIP expires (negative: expired), per TLS site check target.',
      samples: unique(
        r.checks.flatMap((c) => {
          const notAfter =
            c.kind === 'tls-expiry' ? (c.data as { notAfter?: string } | undefined)?.notAfter : undefined;
          if (!notAfter) return [];
          const value = Math.round((new Date(notAfter).getTime() - now.getTime()) / 1000);
          return [{ labels: { cluster: c.cluster, target: c.target }, value }];
        }),
      ),
    },
    {
      name: 'hactl_vrid_collision',
      help: 'With --census: 1 per VRID of the cluster that a router outside it advertises (from: its address).',
      samples: unique(
        collisions.map((x) => ({ labels: { cluster: x.cluster, vrid: x.vrid, from: x.from }, value: 1 })),
      ),
    },
  ];
}

export function prometheusVerify(r: VerifyReport, now = new Date()): string {
  const out: string[] = [];
  for (const fam of families(r, now)) {
    out.push(`# HELP ${fam.name} ${escapeHelp(fam.help)}`, `# TYPE ${fam.name} gauge`);
    for (const s of fam.samples) out.push(sample(fam.name, s.labels, s.value));
  }
  return `${out.join('\n')}\n`;
}
