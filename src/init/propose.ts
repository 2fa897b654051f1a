/**
 * Pure: discovered facts in, the wizard's proposals out (interface, VIPs, VRIDs, priorities).
 * Each proposal carries the reason shown to the operator, who may accept or change it.
 */
import { isIP } from 'node:net';
import { DEFAULTS } from '../inventory/model.js';
import type { DiscoveryFacts as HostFacts, Iface, IfaceAddr } from '../remote/sections/discovery.js';

export type Mode = 'active-passive' | 'dual-master';

export interface LbRef {
  name: string;
  address: string;
}

export interface LbProposal {
  lb: string;
  iface?: string;
  /** The node's own address on that interface. */
  own?: IfaceAddr;
  why: string;
}

export interface Proposal {
  interface?: string;
  lbs: LbProposal[];
  /** address/prefix, one per VIP the mode needs (fewer when the subnet has no room). */
  vips: string[];
  vrids: number[];
  /** VRIDs seen on the segment, with where they were seen. */
  seenVrids: Map<number, string[]>;
  notes: string[];
}

export const VRID_START = 51;

export function ipv4ToInt(ip: string): number {
  return ip.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
}

export function intToIpv4(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

export function sameSubnet(a: { ip: string; prefix: number }, ip: string): boolean {
  const size = 2 ** (32 - a.prefix);
  return isIP(ip) === 4 && Math.floor(ipv4ToInt(a.ip) / size) === Math.floor(ipv4ToInt(ip) / size);
}

const usable = (i: Iface) => i.up && !i.loopback && i.addrs.some((a) => a.scope === 'global' && !a.secondary);

/** The VRRP interface: the one holding the SSH address, else the only usable one. */
export function proposeInterface(lb: LbRef, facts: HostFacts): LbProposal {
  for (const iface of facts.interfaces) {
    const own = iface.addrs.find((a) => a.ip === lb.address);
    if (own) return { lb: lb.name, iface: iface.name, own, why: `${iface.name} holds ${lb.address}/${own.prefix}` };
  }
  const candidates = facts.interfaces.filter(usable);
  if (candidates.length === 1) {
    const own = candidates[0].addrs.find((a) => a.scope === 'global' && !a.secondary)!;
    return {
      lb: lb.name,
      iface: candidates[0].name,
      own,
      why: `${candidates[0].name} is the only interface with a global IPv4 address (${own.ip}/${own.prefix})`,
    };
  }
  const names = candidates.map((c) => c.name).join(', ') || 'none';
  return { lb: lb.name, why: `${lb.address} is not on any interface and several could carry VRRP (${names})` };
}

/** Every IPv4 address known to be in use: host addresses, neighbours, VIPs in adverts, and extras. */
export function usedAddresses(facts: HostFacts[], extra: string[] = []): Set<string> {
  const used = new Set(extra.filter((a) => isIP(a) === 4));
  for (const f of facts) {
    for (const i of f.interfaces) for (const a of i.addrs) used.add(a.ip);
    for (const n of f.neighbours) used.add(n.ip);
    for (const v of f.vrids) for (const ip of v.vips ?? []) used.add(ip);
  }
  return used;
}

/**
 * `count` free addresses in the subnet of `net`, highest first, below .250 where possible
 * (the top of a subnet is where gateways and DHCP ranges tend to live).
 */
export function proposeVips(net: { ip: string; prefix: number }, used: Set<string>, count: number): string[] {
  if (net.prefix >= 31 || count <= 0) return [];
  const size = 2 ** (32 - net.prefix);
  const first = Math.floor(ipv4ToInt(net.ip) / size) * size + 1;
  const last = first + size - 3;
  const out: string[] = [];
  for (const avoidTop of [true, false]) {
    for (let n = last; n >= first && out.length < count; n--) {
      const ip = intToIpv4(n);
      if (avoidTop && n % 256 >= 250) continue;
      if (!used.has(ip) && !out.some((o) => o.startsWith(`${ip}/`))) out.push(`${ip}/${net.prefix}`);
    }
    if (out.length === count) break;
  }
  return out;
}

/** `count` VRIDs not seen, from 51 upward (then from 1). */
export function proposeVrids(seen: Iterable<number>, count: number, start = VRID_START): number[] {
  const taken = new Set(seen);
  const out: number[] = [];
  for (let k = 0; k < 255 && out.length < count; k++) {
    const vrid = ((start - 1 + k) % 255) + 1;
    if (!taken.has(vrid)) out.push(vrid);
  }
  return out;
}

/** Master 150, the others 100, 90, 80… in load balancer order (the loader's defaults, written out). */
export function proposePriorities(lbs: string[], master: string): Record<string, number> {
  const out: Record<string, number> = { [master]: DEFAULTS.masterPriority };
  let next = DEFAULTS.backupPriority;
  for (const lb of lbs)
    if (lb !== master) {
      out[lb] = next;
      next -= DEFAULTS.priorityStep;
    }
  return out;
}

/** The master of each VIP: the first load balancer, and for dual-master the second one too. */
export function mastersFor(mode: Mode, lbs: string[]): string[] {
  return mode === 'dual-master' ? [lbs[0], lbs[1]] : [lbs[0]];
}

export function vipCount(mode: Mode): number {
  return mode === 'dual-master' ? 2 : 1;
}

/**
 * Everything proposed from the facts of the hosts that answered. `taken` holds addresses the
 * operator already chose (backends, VIPs given as flags) so they are not proposed again.
 */
export function propose(lbs: LbRef[], facts: Map<string, HostFacts>, mode: Mode, taken: string[] = []): Proposal {
  const notes: string[] = [];
  const per = lbs.map((lb) => {
    const f = facts.get(lb.name);
    return f ? proposeInterface(lb, f) : { lb: lb.name, why: 'not discovered' };
  });
  const found = per.filter((p) => p.iface && p.own);
  const counts = new Map<string, number>();
  for (const p of found) counts.set(p.iface!, (counts.get(p.iface!) ?? 0) + 1);
  const iface = [...counts].sort((a, b) => b[1] - a[1])[0]?.[0];
  const anchor = found.find((p) => p.iface === iface)?.own;

  const seenVrids = new Map<number, string[]>();
  for (const [lb, f] of facts)
    for (const v of f.vrids) {
      const where =
        v.source === 'advert'
          ? `advert from ${v.from ?? '?'}${v.iface ? ` on ${v.iface}` : ''} (heard by ${lb})`
          : `${lb}'s keepalived.conf`;
      seenVrids.set(v.vrid, [...(seenVrids.get(v.vrid) ?? []), where]);
    }

  let vips: string[] = [];
  if (anchor) {
    for (const p of found)
      if (!sameSubnet(anchor, p.own!.ip))
        notes.push(
          `${p.lb}'s ${p.own!.ip}/${p.own!.prefix} is not in the subnet of ${anchor.ip}/${anchor.prefix}: VRRP needs every load balancer on one segment`,
        );
    vips = proposeVips(
      anchor,
      usedAddresses([...facts.values()], [...taken, ...lbs.map((l) => l.address)]),
      vipCount(mode),
    );
    if (vips.length < vipCount(mode)) notes.push(`no free address left in ${anchor.ip}/${anchor.prefix} for a VIP`);
  }
  for (const [, f] of facts)
    if (!f.listen.ok) {
      notes.push(
        f.listen.method === 'none'
          ? 'neither python3 nor tcpdump is installed on a load balancer: VRIDs were taken from keepalived configs only'
          : `listening for VRRP adverts with ${f.listen.method} failed on a load balancer (root needed): VRIDs were taken from keepalived configs only`,
      );
      break;
    }
  return { interface: iface, lbs: per, vips, vrids: proposeVrids(seenVrids.keys(), vipCount(mode)), seenVrids, notes };
}
