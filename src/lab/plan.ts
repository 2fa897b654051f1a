/**
 * Pure: lab index and options in, names and addresses out.
 *
 * Address plan of lab n (10.213.n.0/24 by default, HACTL_LAB_NET overrides "10.213"):
 *   .1        the lab bridge, the machine's address on the lab
 *   .11-.110  load balancers lb1..lb100, numbered across clusters
 *   .121-.199 VIPs vip1..vip79 (vrid 50 + VIP number)
 *   .201-.254 backends web1..web54
 * With --ipv6 the lab also has fd00:213:n::/64 ("213" from HACTL_LAB_NET): the machine is ::1,
 * hosts and IPv4 VIPs keep their last octet as the interface id (.11 is ::11), and each IPv4
 * VIP gets an IPv6 twin <name>v6 with vrid 150 + VIP number.
 * With --private-net each cluster c also has a private segment 198.18.c.0/24 (RFC 2544's
 * benchmarking range, never routed) on a bridge of its own, `hactl<n>-priv<c>`, where each of
 * its load balancers has eth1 with the last octet of its eth0 address (.11 is 198.18.c.11),
 * through a veth whose machine-side end is `hactl<n>-<host>p`. The machine has no address
 * there: nothing on it can meet a machine route, and every lab reuses the same addresses on
 * bridges of its own.
 * Names: the lab is `hactl<n>`; its bridge `hactl<n>-br`; each host's netns and the
 * machine-side end of its veth are `hactl<n>-<host>` (at most 15 characters).
 */
import { imageKindFor, type NginxLayout, type PackagesChoice } from './image-plan.js';
import { DEFAULT_OS, backendRelease, lbRelease, type OsChoice } from './releases.js';
import type { ClusterPlan, HostPlan, LabPlan, PrivateNetPlan, VipPlan } from './types.js';

export const LAB_PREFIX = 'hactl';
export const LAB_ID_PATTERN = /^hactl(\d{1,3})$/;
/** Matches netns and link names a lab made: hactl<n>-<something>. */
export const LAB_NAME_PATTERN = /^hactl(\d{1,3})-[A-Za-z0-9]+$/;
/** The lab's bridges among its links: hactl<n>-br, and hactl<n>-priv<c> with --private-net. */
export const LAB_BRIDGE_PATTERN = /^hactl\d{1,3}-(br|priv\d+)$/;
/** The private segments' range (--private-net): cluster c is 198.18.c.0/24. */
export const PRIVATE_NET = '198.18';

export const LIMITS = { lbs: 100, vips: 79, backends: 54, index: { min: 1, max: 254 } };

export interface PlanRequest {
  clusters: number;
  lbs: number;
  backends: number;
  dualMaster: boolean;
  os?: OsChoice;
  packages?: PackagesChoice;
  nginx?: NginxLayout;
  ipv6?: boolean;
  privateNet?: boolean;
}

export function labNet(): string {
  const net = process.env.HACTL_LAB_NET ?? '10.213';
  if (!/^(\d{1,3})\.(\d{1,3})$/.test(net) || net.split('.').some((o) => Number(o) > 255)) {
    throw new Error(`HACTL_LAB_NET must be two octets such as 10.213, not ${JSON.stringify(net)}`);
  }
  return net;
}

export function labId(index: number): string {
  return `${LAB_PREFIX}${index}`;
}

export function labSubnet(index: number): string {
  return `${labNet()}.${index}.0/24`;
}

/** The lab's IPv6 prefix, without the trailing "::": fd00:213:7 for lab 7. */
export function labNet6(index: number): string {
  return `fd00:${labNet().split('.')[1]}:${index}`;
}

/** Cluster c's private segment (--private-net). */
export function privateNetOf(id: string, cluster: number): PrivateNetPlan {
  return { bridge: `${id}-priv${cluster}`, subnet: `${PRIVATE_NET}.${cluster}.0/24`, prefix: 24 };
}

/** The problems with a request, empty when it can be planned. */
export function checkRequest(r: PlanRequest): string[] {
  const problems: string[] = [];
  const int = (v: number, name: string, min: number) => {
    if (!Number.isInteger(v) || v < min)
      problems.push(`--${name} must be a whole number of at least ${min} (got ${v})`);
  };
  int(r.clusters, 'clusters', 1);
  int(r.lbs, 'lbs', 2);
  int(r.backends, 'backends', 1);
  const vips = r.clusters * (r.dualMaster ? 2 : 1);
  if (r.clusters * r.lbs > LIMITS.lbs)
    problems.push(`at most ${LIMITS.lbs} load balancers per lab (asked for ${r.clusters} × ${r.lbs})`);
  if (vips > LIMITS.vips) problems.push(`at most ${LIMITS.vips} VIPs per lab (asked for ${vips})`);
  if (r.backends > LIMITS.backends)
    problems.push(`at most ${LIMITS.backends} backends per lab (asked for ${r.backends})`);
  return problems;
}

export function planLab(index: number, r: PlanRequest): LabPlan {
  const problems = checkRequest(r);
  if (problems.length > 0) throw new Error(`cannot plan the lab: ${problems.join('; ')}`);
  const id = labId(index);
  const base = `${labNet()}.${index}`;
  const base6 = r.ipv6 ? labNet6(index) : undefined;
  const os = r.os ?? DEFAULT_OS;
  const host = (name: string, role: HostPlan['role'], octet: number, position: number, cluster?: string): HostPlan => ({
    name,
    role,
    ip: `${base}.${octet}`,
    ...(base6 ? { ip6: `${base6}::${octet}` } : {}),
    release: role === 'lb' ? lbRelease(os, position) : backendRelease(os),
    image: imageKindFor(role, r.packages ?? 'none', r.nginx ?? 'package'),
    netns: `${id}-${name}`,
    veth: `${id}-${name}`,
    ...(cluster ? { cluster } : {}),
  });
  const hosts: HostPlan[] = [];
  const clusters: ClusterPlan[] = [];
  let [lbNo, vipNo] = [0, 0];
  for (let c = 1; c <= r.clusters; c++) {
    const name = `lab${c}`;
    const lbs: string[] = [];
    for (let i = 0; i < r.lbs; i++) {
      lbNo++;
      hosts.push(host(`lb${lbNo}`, 'lb', 10 + lbNo, i, name));
      lbs.push(`lb${lbNo}`);
    }
    const masters = r.dualMaster ? [lbs[0], lbs[1]] : [lbs[0]];
    const vips: VipPlan[] = masters.map((master) => {
      vipNo++;
      const ip = `${base}.${120 + vipNo}`;
      return { name: `vip${vipNo}`, family: 4, ip, cidr: `${ip}/24`, vrid: 50 + vipNo, master };
    });
    if (base6) vips.push(...vips.map((v) => vip6(v, base6)));
    clusters.push({ name, lbs, vips });
  }
  if (r.privateNet) addPrivateNets(id, clusters, hosts);
  const backends: string[] = [];
  for (let b = 1; b <= r.backends; b++) {
    hosts.push(host(`web${b}`, 'backend', 200 + b, b - 1));
    backends.push(`web${b}`);
  }
  return {
    id,
    index,
    subnet: `${base}.0/24`,
    prefix: 24,
    bridge: `${id}-br`,
    bridgeIp: `${base}.1`,
    ...(base6 ? { subnet6: `${base6}::/64`, bridgeIp6: `${base6}::1` } : {}),
    hosts,
    clusters,
    backends,
    serverName: 'www.lab.test',
    healthPath: '/webserver.html',
    nonRootUser: 'hactl',
  };
}

/**
 * --private-net: each cluster its segment, each of its load balancers eth1 there, with the
 * last octet of its eth0 address.
 */
function addPrivateNets(id: string, clusters: ClusterPlan[], hosts: HostPlan[]): void {
  clusters.forEach((c, i) => {
    const net = privateNetOf(id, i + 1);
    c.privateNet = net;
    for (const lb of hosts.filter((h) => h.role === 'lb' && h.cluster === c.name)) {
      const ip = net.subnet.replace(/\.0\/\d+$/, `.${lb.ip.split('.')[3]}`);
      lb.private = { ip, prefix: net.prefix, veth: `${lb.veth}p`, bridge: net.bridge };
    }
  });
}

/** The IPv6 twin of an IPv4 VIP: same master, its own VRRP instance. */
function vip6(v: VipPlan, base6: string): VipPlan {
  const ip = `${base6}::${v.ip.split('.')[3]}`;
  return { name: `${v.name}v6`, family: 6, ip, cidr: `${ip}/64`, vrid: v.vrid + 100, master: v.master };
}

function ipv4ToInt(ip: string): number {
  return ip.split('.').reduce((acc, o) => acc * 256 + Number(o), 0);
}

/** True when two IPv4 prefixes share any address. */
export function ipv4Overlaps(a: string, b: string): boolean {
  const [aip, ap] = a.split('/');
  const [bip, bp] = b.split('/');
  const prefix = Math.min(Number(ap ?? 32), Number(bp ?? 32));
  const size = 2 ** (32 - prefix);
  return Math.floor(ipv4ToInt(aip) / size) === Math.floor(ipv4ToInt(bip) / size);
}
