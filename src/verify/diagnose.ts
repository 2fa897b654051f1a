/**
 * Split-brain diagnosis: when a VIP has more than one holder, find out why, with evidence:
 * adverts not reaching a node (heartbeat cable, NIC, switch), a firewall dropping VRRP, nodes
 * whose keepalived.conf disagree on virtual_router_id, authentication, advert_int, VRRP
 * version or unicast peers.
 */
import type { Cluster, Vip } from '../inventory/model.js';
import type { HostFacts } from '../remote/facts.js';
import { gather } from '../remote/section.js';
import { firewallSection, keepalivedStatsSection, type AdvertStats } from '../remote/sections/keepalived.js';
import type { Transport } from '../transport/transport.js';
import { HOST_PATHS as PATHS } from '../remote/paths.js';
import { sleep } from '../util/sleep.js';
import { parseKeepalivedConf, type InstanceConf } from './keepalived-conf.js';

export interface Finding {
  vip: string;
  node: string;
  cause: 'adverts-not-arriving' | 'firewall' | 'config-mismatch' | 'auth-errors' | 'interval-errors';
  evidence: string;
  fix: string;
}

/** keepalived's advert counters on one node, or undefined when it could not dump them. */
async function stats(t: Transport): Promise<Map<string, AdvertStats> | undefined> {
  try {
    const [s] = await gather(t, [keepalivedStatsSection] as const, { step: 'keepalived stats', timeoutMs: 5000 });
    return s;
  } catch {
    return undefined;
  }
}

/** Watch advert counters on every node for a bounded time (2 × the longest advert_int, at least 1 s), for every VIP at once. */
export async function observeAdverts(
  vips: Vip[],
  nodes: string[],
  transport: (n: string) => Transport,
): Promise<Finding[]> {
  const secs = Math.max(1, 2 * Math.max(...vips.map((v) => v.advertInt)));
  const before = await Promise.all(nodes.map((n) => stats(transport(n))));
  // A measurement window, not a wait for a condition: the counters are compared across it.
  await sleep(secs * 1000);
  const after = await Promise.all(nodes.map((n) => stats(transport(n))));
  const findings: Finding[] = [];
  for (const vip of vips)
    nodes.forEach((node, i) => {
      const a = before[i]?.get(vip.name);
      const b = after[i]?.get(vip.name);
      if (!a || !b) return;
      const peersSent = nodes.some(
        (_, k) => k !== i && (after[k]?.get(vip.name)?.sent ?? 0) > (before[k]?.get(vip.name)?.sent ?? 0),
      );
      if (b.received === a.received && peersSent)
        findings.push({
          vip: vip.name,
          node,
          cause: 'adverts-not-arriving',
          evidence: `received no VRRP advertisement for ${vip.name} in ${secs} s (keepalived stats: Received ${a.received} → ${b.received}) while its peers kept sending`,
          fix: `check the path from the peers to ${node} on the VRRP interface: cabling/NIC/switch (multicast 224.0.0.18 or unicast peers), and firewalls on both ends`,
        });
      if (b.authErrors > a.authErrors)
        findings.push({
          vip: vip.name,
          node,
          cause: 'auth-errors',
          evidence: `authentication errors grew ${a.authErrors} → ${b.authErrors}`,
          fix: 'use the same auth_pass on every node (hactl deploy renders one)',
        });
      if (b.intervalErrors > a.intervalErrors)
        findings.push({
          vip: vip.name,
          node,
          cause: 'interval-errors',
          evidence: `advertisement interval errors grew ${a.intervalErrors} → ${b.intervalErrors}`,
          fix: 'use the same advert_int on every node',
        });
    });
  return findings;
}

/** Each node's firewall rules that touch VRRP (one round trip per node, in parallel; read only on split brain). */
export async function readFirewalls(
  nodes: string[],
  transport: (n: string) => Transport,
): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  await Promise.all(
    nodes.map(async (node) => {
      try {
        const [rules] = await gather(transport(node), [firewallSection] as const, {
          step: 'firewall',
          timeoutMs: 5000,
        });
        out.set(node, rules);
      } catch {
        /* unreadable: no finding for this node */
      }
    }),
  );
  return out;
}

export function firewallFindings(vip: Vip, firewall: Map<string, string[]>): Finding[] {
  const out: Finding[] = [];
  for (const [node, lines] of firewall) {
    const drops = lines.filter((r) => /DROP|REJECT|drop|reject/.test(r));
    // iptables-nft rules also appear in `nft list ruleset`: report each rule once, as iptables shows it.
    const iptables = drops.filter((r) => r.trim().startsWith('-A'));
    const rules = iptables.length ? iptables : drops;
    for (const rule of rules)
      out.push({
        vip: vip.name,
        node,
        cause: 'firewall',
        evidence: `firewall rule drops VRRP: ${rule.trim()}`,
        fix: rule.trim().startsWith('-A')
          ? `remove it (iptables ${rule.trim().replace(/^-A/, '-D')}) or allow VRRP first (iptables -I INPUT -p vrrp -j ACCEPT)`
          : 'remove the rule or allow IP protocol 112 (vrrp) from the peers',
      });
  }
  return out;
}

/** Each node's vrrp_instance for the VIP as its keepalived.conf says (by name, else by address). */
function instancesOf(vip: Vip, facts: Map<string, HostFacts>): Map<string, InstanceConf | undefined> {
  const confs = new Map<string, InstanceConf | undefined>();
  for (const [node, f] of facts) {
    const text = f.files[PATHS.keepalivedConf]?.content;
    const parsed = text ? parseKeepalivedConf(text) : undefined;
    const inst =
      parsed?.instances.find((i) => i.name === vip.name) ??
      parsed?.instances.find((i) => i.addresses.some((a) => a.split('/')[0] === vip.ip));
    if (inst && inst.version === undefined && parsed?.globalVersion) inst.version = parsed.globalVersion;
    confs.set(node, inst);
  }
  return confs;
}

type Field = [label: string, get: (c: InstanceConf) => string | number | undefined, secret?: boolean];

/** The settings every node of a VIP must agree on (auth_pass compared, never shown). */
const FIELDS: Field[] = [
  ['virtual_router_id', (c) => c.vrid],
  ['auth_pass', (c) => c.authPass, true],
  ['auth_type', (c) => c.authType],
  ['advert_int', (c) => c.advertInt],
  ['VRRP version', (c) => c.version ?? 2],
  ['unicast mode', (c) => (c.unicastPeers.length ? 'unicast' : 'multicast')],
];

/** Nodes whose value of one setting differs from the master's (or the first value seen). */
function mismatches(vip: Vip, present: [string, InstanceConf][], [label, get, secret]: Field): Finding[] {
  const values = new Map<string, string[]>();
  for (const [node, c] of present) {
    const v = String(get(c) ?? 'unset');
    values.set(v, [...(values.get(v) ?? []), node]);
  }
  if (values.size <= 1) return [];
  const expected = present.find(([n]) => n === vip.master)?.[1];
  const want = expected ? String(get(expected) ?? 'unset') : [...values.keys()][0];
  return [...values].flatMap(([v, nodes]) =>
    v === want
      ? []
      : nodes.map((node) => ({
          vip: vip.name,
          node,
          cause: 'config-mismatch' as const,
          evidence: secret
            ? `${label} differs from ${vip.master}'s`
            : `${label} is ${v} here but ${want} on ${vip.master}`,
          fix: `make ${label} equal on every node: \`hactl deploy\` restores what the inventory says`,
        })),
  );
}

/** Unicast peers must be symmetric: every node lists every other node's source address. */
function unicastFindings(cluster: Cluster, vip: Vip, present: [string, InstanceConf][]): Finding[] {
  const out: Finding[] = [];
  for (const [node, c] of present) {
    if (!c.unicastPeers.length) continue;
    for (const [other, oc] of present) {
      if (other === node) continue;
      const src = oc.unicastSrc ?? cluster.lbs.find((l) => l.name === other)?.vrrpAddress;
      if (src && !c.unicastPeers.includes(src))
        out.push({
          vip: vip.name,
          node,
          cause: 'config-mismatch',
          evidence: `unicast_peer does not list ${other} (${src}), so ${other}'s adverts are ignored`,
          fix: `add ${src} to ${node}'s unicast_peer (hactl deploy does it)`,
        });
    }
  }
  return out;
}

export function configFindings(cluster: Cluster, vip: Vip, facts: Map<string, HostFacts>): Finding[] {
  const confs = instancesOf(vip, facts);
  const present = [...confs].filter((e): e is [string, InstanceConf] => e[1] !== undefined);
  const missing: Finding[] = [...confs]
    .filter(([, c]) => !c)
    .map(([node]) => ({
      vip: vip.name,
      node,
      cause: 'config-mismatch',
      evidence: `${PATHS.keepalivedConf} has no vrrp_instance for ${vip.name} (${vip.ip})`,
      fix: 'hactl deploy',
    }));
  return [...missing, ...FIELDS.flatMap((f) => mismatches(vip, present, f)), ...unicastFindings(cluster, vip, present)];
}
