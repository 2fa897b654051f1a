/**
 * The VRID census: is a VRID of this inventory already in use on the segment by a router
 * outside the cluster (another keepalived pair, a firewall cluster, a switch)? Each load
 * balancer listens for VRRP adverts on its interface for a few advert intervals; an advert
 * with one of the cluster's VRIDs from an address that is not one of the cluster's nodes is a
 * collision: deploying would give a split brain or steal a gateway. Pure: the listening is
 * advertsSection's (src/remote/sections/discovery.ts).
 */
import type { Cluster } from '../inventory/model.js';
import type { HostFacts } from '../remote/facts.js';
import type { Heard, ListenReport } from '../remote/sections/discovery.js';

export interface Collision {
  vrid: number;
  vip: string;
  /** The load balancer that heard it, on which interface. */
  heardOn: string;
  iface?: string;
  from: string;
  priority?: number;
  /** Addresses the foreign advert carries (its VIPs). */
  vips?: string[];
}

export interface CensusReport {
  cluster: string;
  listened: (ListenReport & { lb: string })[];
  collisions: Collision[];
  /** Other VRIDs heard from outside the cluster (in use there: not these VIPs' business, worth knowing). */
  othersInUse: { vrid: number; from: string; heardOn: string }[];
  /** What the census could not check, and why. */
  problems: string[];
  notes: string[];
}

/** Long enough to hear a master with the cluster's slowest advert interval three times, at least 3 s. */
export function censusSeconds(cluster: Cluster): number {
  const slowest = Math.max(...cluster.vips.map((v) => v.advertInt));
  return Math.min(30, Math.max(3, Math.ceil(3 * slowest)));
}

/** Every address that belongs to the cluster's own nodes: adverts from these are the cluster's own. */
function ownAddresses(cluster: Cluster, facts: (lb: string) => HostFacts | undefined): Set<string> {
  const own = new Set<string>();
  for (const lb of cluster.lbs) {
    own.add(lb.address);
    if (lb.vrrpAddress) own.add(lb.vrrpAddress);
    for (const a of facts(lb.name)?.addresses ?? []) own.add(a.cidr.split('/')[0]);
  }
  return own;
}

export function census(
  cluster: Cluster,
  heard: Map<string, Heard>,
  facts: (lb: string) => HostFacts | undefined,
): CensusReport {
  const own = ownAddresses(cluster, facts);
  const byVrid = new Map(cluster.vips.filter((v) => v.family === 4).map((v) => [v.vrid, v.name]));
  const report: CensusReport = {
    cluster: cluster.name,
    listened: [],
    collisions: [],
    othersInUse: [],
    problems: [],
    notes: [],
  };
  const seen = new Set<string>();
  for (const lb of cluster.lbs) {
    const h = heard.get(lb.name);
    if (!h) continue;
    report.listened.push({ lb: lb.name, ...h.listen });
    if (!h.listen.ok)
      report.problems.push(
        h.listen.method === 'none'
          ? `${lb.name} cannot listen for VRRP adverts: it has neither python3 nor tcpdump (install one)`
          : `${lb.name}: listening with ${h.listen.method} failed`,
      );
    for (const a of h.vrids) {
      if (!a.from || own.has(a.from) || (a.iface && a.iface !== lb.interface)) continue;
      const key = `${a.vrid} ${a.from}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const vip = byVrid.get(a.vrid);
      if (vip === undefined) {
        report.othersInUse.push({ vrid: a.vrid, from: a.from, heardOn: lb.name });
        continue;
      }
      report.collisions.push({
        vrid: a.vrid,
        vip,
        heardOn: lb.name,
        ...(a.iface ? { iface: a.iface } : {}),
        from: a.from,
        ...(a.priority !== undefined ? { priority: a.priority } : {}),
        ...(a.vips ? { vips: a.vips } : {}),
      });
    }
  }
  const v6 = cluster.vips.filter((v) => v.family === 6);
  if (v6.length)
    report.notes.push(
      `IPv6 VIPs not checked (${v6.map((v) => v.name).join(', ')}): the census hears IPv4 adverts only`,
    );
  return report;
}

export function describeCollision(cluster: string, c: Collision): string {
  const prio = c.priority !== undefined ? `, priority ${c.priority}` : '';
  const carries = c.vips?.length ? `, carrying ${c.vips.join(', ')}` : '';
  return `VRID ${c.vrid} (${c.vip}) is already advertised by ${c.from}${prio}${carries}, heard on ${c.heardOn}${c.iface ? ` ${c.iface}` : ''}: a router outside cluster ${cluster}`;
}
