/** Preflight: can this host take its configuration? Pure checks over its facts. */
import type { Cluster, LoadBalancer, Vip } from '../inventory/model.js';
import type { HostFacts } from '../remote/facts.js';
import type { HostPlan } from '../plan/plan.js';
import { contains, parseCidr } from '../util/ip.js';

export function preflight(cluster: Cluster, lb: LoadBalancer, facts: HostFacts, plan: HostPlan): string[] {
  const out: string[] = [];
  if (plan.packages.length > 0 && !facts.os.packageManager)
    out.push(
      `needs ${plan.packages.join(', ')} but has no supported package manager (apt-get, dnf, yum; OS "${facts.os.id}"): install them by hand`,
    );
  out.push(...nginxLayoutProblems(lb, facts));
  if (!facts.links.includes(lb.interface)) {
    out.push(
      `VRRP interface ${lb.interface} does not exist (interfaces: ${interfaceList(facts)}); set interface: for ${lb.name} in the inventory`,
    );
    return out;
  }
  for (const vip of cluster.vips) out.push(...vipProblems(vip, lb, facts));
  return out;
}

const interfaceList = (facts: HostFacts) => facts.links.filter((l) => l !== 'lo').join(', ') || 'none';

/** The host's addresses of the VIP's family on `iface`, except the VIP itself (a node may hold it already). */
const ownAddresses = (facts: HostFacts, iface: string, vip: Vip) =>
  facts.addresses.filter((a) => a.iface === iface && a.family === vip.family && !a.cidr.startsWith(`${vip.ip}/`));

/**
 * A VIP needs an address of its family on the VRRP interface (the adverts' source), and its own
 * address must fit a subnet of the interface it goes on: the VRRP interface, or its `dev` (the
 * VIP on the public NIC, adverts on the private one), which must exist, as must every other
 * interface its addresses name.
 */
function vipProblems(vip: Vip, lb: LoadBalancer, facts: HostFacts): string[] {
  if (ownAddresses(facts, lb.interface, vip).length === 0)
    return [`interface ${lb.interface} has no IPv${vip.family} address, so VIP ${vip.cidr} cannot be announced there`];
  const iface = vip.dev ?? lb.interface;
  const missing = [iface, ...[...(vip.addresses ?? []), ...(vip.excluded ?? [])].flatMap((a) => (a.dev ? [a.dev] : []))]
    .filter((d, i, all) => all.indexOf(d) === i && !facts.links.includes(d))
    .map(
      (d) =>
        `VIP ${vip.name} has an address on ${d}, which does not exist (interfaces: ${interfaceList(facts)}); fix dev: in the inventory`,
    );
  if (missing.length > 0) return missing;
  // A /32 or /128 VIP is a host address keepalived adds as such; an interface with only an
  // IPv6 link-local address sends VRRPv3 from it, and a dev with no address of the family has
  // no subnet to compare. None of them needs the VIP in a subnet of its own.
  const there = ownAddresses(facts, iface, vip);
  const routed = there.filter((a) => !a.cidr.toLowerCase().startsWith('fe80:'));
  const hostRoute = vip.prefix === (vip.family === 4 ? 32 : 128);
  const fits =
    hostRoute ||
    routed.length === 0 ||
    routed.some((a) => {
      const net = parseCidr(a.cidr);
      return net !== undefined && contains(net, vip.ip);
    });
  if (fits) return [];
  return [
    `VIP ${vip.cidr} is outside the subnets of ${iface} (${there.map((a) => a.cidr).join(', ')}); pick a VIP in that subnet or the right interface${iface === lb.interface ? ' (dev: when it goes on another one than the VRRP interface)' : ''}`,
  ];
}

/** A build under its own prefix: its binary must be there and its nginx.conf must include hactl's directory. */
function nginxLayoutProblems(lb: LoadBalancer, facts: HostFacts): string[] {
  const n = lb.nginx;
  if (n.kind !== 'prefix') return [];
  if (!facts.programs.nginx)
    return [
      `nginx binary ${n.binary} is not there (nginx.binary in the inventory): install your build, or remove nginx: to use the package`,
    ];
  const conf = facts.files[n.conf];
  if (!conf?.exists) return [`${n.conf} (nginx.conf of ${n.binary}) does not exist: set nginx.conf in the inventory`];
  const dir = n.includeDir.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  const included = new RegExp(`^[^#\\n]*\\binclude\\s+${dir}/[^;]*;`, 'm').test(conf.content ?? '');
  if (!included)
    return [
      `${n.conf} does not include ${n.includeDir}, where hactl writes its site: add "include ${n.includeDir}/*.conf;" to its http block`,
    ];
  return [];
}
