/**
 * The lab segment: one bridge with the machine's address on it, and per host a netns and a
 * veth pair (eth0 inside, hactl<n>-<host> on the bridge). Made and removed with one
 * `ip -batch` each, so 50 hosts cost two processes, not two hundred.
 *
 * The bridge floods multicast (multicast_snooping 0) so VRRP adverts to 224.0.0.18 reach every
 * host whether or not anyone sends IGMP joins. No default route, no NAT, no forwarding set up:
 * hosts reach only the segment, and the machine reaches them through the bridge address.
 * IPv6 is off on the machine's side of the lab links, except with --ipv6 on the bridge, which
 * then carries the machine's ::1 on the lab's /64, quietly (no router solicitations, no DAD).
 * With --private-net each cluster has a second bridge, flooding multicast the same way but with
 * no address of the machine on it, and each of its load balancers a second veth pair (eth1
 * inside, hactl<n>-<host>p on that bridge): the private LAN the adverts cross.
 */
import { readdir, writeFile } from 'node:fs/promises';
import { execa } from 'execa';
import { LAB_BRIDGE_PATTERN } from './plan.js';
import type { HostPlan, LabPlan } from './types.js';

export async function ipBatch(lines: string[], force = false): Promise<void> {
  if (lines.length === 0) return;
  const args = force ? ['-force', '-batch', '-'] : ['-batch', '-'];
  const r = await execa('ip', args, { input: `${lines.join('\n')}\n`, reject: false });
  if (r.exitCode !== 0 && !force) throw new Error(`ip -batch failed (exit ${r.exitCode}): ${r.stderr.trim()}`);
}

/** A bridge that floods multicast (VRRP to 224.0.0.18 reaches every port, IGMP joins or not). */
const newBridge = (name: string) => `link add ${name} type bridge mcast_snooping 0 stp_state 0 forward_delay 0`;

/** The private bridges of the lab's clusters (--private-net), none otherwise. */
export function privateBridges(plan: LabPlan): string[] {
  return plan.clusters.flatMap((c) => (c.privateNet ? [c.privateNet.bridge] : []));
}

export function bridgeCommands(plan: LabPlan): string[] {
  return [
    newBridge(plan.bridge),
    `addr add ${plan.bridgeIp}/${plan.prefix} dev ${plan.bridge}`,
    `link set ${plan.bridge} up`,
    // The machine takes no address on a private bridge: it is the load balancers' own LAN.
    ...privateBridges(plan).flatMap((b) => [newBridge(b), `link set ${b} up`]),
  ];
}

export function hostLinkCommands(plan: LabPlan, host: HostPlan): string[] {
  const p = host.private;
  return [
    `netns add ${host.netns}`,
    `link add ${host.veth} type veth peer name eth0 netns ${host.netns}`,
    `link set ${host.veth} master ${plan.bridge} up`,
    ...(p
      ? [`link add ${p.veth} type veth peer name eth1 netns ${host.netns}`, `link set ${p.veth} master ${p.bridge} up`]
      : []),
  ];
}

const ipv6Conf = (link: string, key: string, value: string) =>
  writeFile(`/proc/sys/net/ipv6/conf/${link}/${key}`, value).catch(() => undefined);

/** Keeps the machine from speaking IPv6 on the lab links (link-local chatter, router solicitations). */
async function quietIpv6(names: string[]): Promise<void> {
  await Promise.all(names.map((n) => ipv6Conf(n, 'disable_ipv6', '1')));
}

/** The bridge's IPv6 side: sysctls first, so it never solicits a router or runs DAD. */
async function bridgeIpv6(plan: LabPlan): Promise<void> {
  if (!plan.bridgeIp6) return;
  for (const [k, v] of [
    ['accept_ra', '0'],
    ['autoconf', '0'],
    ['router_solicitations', '0'],
    ['accept_dad', '0'],
    ['dad_transmits', '0'],
    ['disable_ipv6', '0'],
  ])
    await ipv6Conf(plan.bridge, k, v);
  await ipBatch([`addr add ${plan.bridgeIp6}/64 dev ${plan.bridge} nodad`]);
}

export async function createSegment(plan: LabPlan): Promise<void> {
  await ipBatch([...bridgeCommands(plan), ...plan.hosts.flatMap((h) => hostLinkCommands(plan, h))]);
  await quietIpv6([
    ...(plan.bridgeIp6 ? [] : [plan.bridge]),
    ...privateBridges(plan),
    ...plan.hosts.flatMap((h) => [h.veth, ...(h.private ? [h.private.veth] : [])]),
  ]);
  await bridgeIpv6(plan);
}

export async function listNetns(): Promise<string[]> {
  try {
    return (await readdir('/run/netns')).sort();
  } catch {
    return [];
  }
}

export async function listLinks(): Promise<string[]> {
  const { stdout } = await execa('ip', ['-j', 'link', 'show']);
  return (JSON.parse(stdout || '[]') as { ifname: string }[]).map((l) => l.ifname);
}

/** Deletes every link and netns whose name starts with `${id}-` (veths first: that removes both ends). */
export async function deleteSegment(id: string): Promise<void> {
  const mine = (n: string) => n.startsWith(`${id}-`);
  const links = (await listLinks()).filter(mine);
  const bridges = links.filter((l) => LAB_BRIDGE_PATTERN.test(l));
  const veths = links.filter((l) => !LAB_BRIDGE_PATTERN.test(l));
  const netns = (await listNetns()).filter(mine);
  await ipBatch(
    [
      ...veths.map((l) => `link del ${l}`),
      ...netns.map((n) => `netns del ${n}`),
      ...bridges.map((b) => `link del ${b}`),
    ],
    true,
  );
}

/**
 * A host's link as a cable would be: `inside` is the host's interface, `bridge` its port on the
 * bridge. `dev` eth1 is a load balancer's link to its private segment (--private-net).
 */
export async function setLink(
  host: Pick<HostPlan, 'name' | 'netns' | 'veth' | 'private'>,
  up: boolean,
  side: 'inside' | 'bridge' = 'inside',
  dev: 'eth0' | 'eth1' = 'eth0',
): Promise<void> {
  const port = dev === 'eth1' ? host.private?.veth : host.veth;
  if (!port) throw new Error(`${host.name} has no eth1 (the lab was not made with --private-net)`);
  const args = side === 'inside' ? ['-n', host.netns, 'link', 'set', dev] : ['link', 'set', port];
  await execa('ip', [...args, up ? 'up' : 'down']);
}
