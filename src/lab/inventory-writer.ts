/**
 * Pure: the lab's inventory.yaml, in the style of inventory.example.yaml, and its known_hosts.
 * Valid against src/inventory/schema.ts; strict host key checking against the keys the hosts
 * generated at boot.
 */
import { randomInt } from 'node:crypto';
import { Document, isMap, isSeq } from 'yaml';
import type { ClusterDoc, InventoryDoc, VipDoc } from '../inventory/schema.js';
import { prefixNginxInventory } from './nginx-prefix.js';
import { LAB_TLS } from './tls.js';
import type { ClusterPlan, HostState, LabPlan, VipPlan } from './types.js';

export interface InventoryInput {
  plan: LabPlan;
  identityFile: string;
  knownHostsFile: string;
  vrrpPass: string;
  /** The site is HTTPS with the lab's certificate (lab/tls.ts writes the files beside the inventory). */
  tls?: boolean;
  /** Every cluster uses vrrp.profile fast (VRRPv3, so no authentication). */
  fast?: boolean;
}

const PASS_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';

/** keepalived PASS authentication: at most 8 characters. */
export function randomVrrpPass(length = 8): string {
  return Array.from({ length }, () => PASS_ALPHABET[randomInt(PASS_ALPHABET.length)]).join('');
}

/**
 * A VIP's entry. A lab with IPv6 VIPs authenticates its IPv4 VIPs one by one: VRRPv3 (which
 * IPv6 VIPs need) has no authentication, so a cluster-wide auth would cover them too.
 */
function vipDoc(v: VipPlan, auth: VipDoc['auth'], perVipAuth: boolean, dev?: string): VipDoc {
  const base = { name: v.name, address: v.cidr, vrid: v.vrid, master: v.master, ...(dev ? { dev } : {}) };
  if (v.family === 6) return { ...base, vrrp_version: 3 };
  return perVipAuth && auth ? { ...base, auth } : base;
}

/**
 * A cluster's VRRP side. With --private-net the adverts go over eth1 (the cluster's private
 * segment, each node's vrrp_address there) and every VIP stays on eth0 (`dev`), the public
 * side the machine reaches; otherwise everything is on eth0.
 */
function vrrpSide(plan: LabPlan, c: ClusterPlan) {
  const hostOf = (name: string) => plan.hosts.find((h) => h.name === name);
  const lb = (name: string) => {
    const h = hostOf(name);
    return { name, address: h?.ip ?? '', ...(h?.private ? { vrrp_address: h.private.ip } : {}) };
  };
  return {
    interface: c.privateNet ? 'eth1' : 'eth0',
    loadBalancers: c.lbs.map(lb),
    vipDev: c.privateNet ? 'eth0' : undefined,
  };
}

export function labInventory({
  plan,
  identityFile,
  knownHostsFile,
  vrrpPass,
  tls,
  fast,
}: InventoryInput): InventoryDoc {
  const ipOf = (name: string) => plan.hosts.find((h) => h.name === name)?.ip ?? '';
  const auth = fast ? undefined : { type: 'PASS' as const, pass: vrrpPass };
  const perVipAuth = plan.clusters.some((c) => c.vips.some((v) => v.family === 6));
  const vrrp = fast ? { profile: 'fast' as const } : perVipAuth ? { advert_int: 1 } : { advert_int: 1, auth };
  const backends = plan.backends.map((name) => ({ name, address: ipOf(name), port: 80 }));
  return {
    version: 1,
    ssh: {
      user: 'root',
      port: 22,
      identity_file: identityFile,
      known_hosts: knownHostsFile,
      host_key_policy: 'strict',
      connect_timeout: 10,
    },
    clusters: plan.clusters.map((c) => {
      const side = vrrpSide(plan, c);
      return {
        name: c.name,
        interface: side.interface,
        load_balancers: side.loadBalancers,
        vrrp,
        vips: c.vips.map((v) => vipDoc(v, auth, perVipAuth, side.vipDev)),
        backends,
        sites: [
          {
            name: 'www',
            server_names: [plan.serverName],
            vips: c.vips.map((v) => v.name),
            port: tls ? 443 : 80,
            backends: plan.backends,
            health_path: plan.healthPath,
            ...(tls ? { tls: { certificate: LAB_TLS.certificate, key: LAB_TLS.key, ca: LAB_TLS.ca } } : {}),
          },
        ],
      };
    }),
  };
}

/**
 * `--nginx prefix` only: every cluster says where its nginx lives (the seed's layout), for the
 * deploy side. Kept apart so the key can be wired to the inventory schema when that learns it;
 * until then such an inventory carries a key the schema does not know.
 */
export function withPrefixNginx(inv: InventoryDoc): InventoryDoc {
  const clusters = inv.clusters.map((c) => ({ ...c, nginx: prefixNginxInventory() }) as ClusterDoc);
  return { ...inv, clusters };
}

function lbDescription(plan: LabPlan): string {
  const images = new Set(plan.hosts.filter((h) => h.role === 'lb').map((h) => h.image));
  if (images.has('base'))
    return 'fresh servers: no keepalived, no nginx (hactl deploy installs them from the lab repository)';
  if (images.has('prefix')) return 'nginx under /application/nginx (no nginx package), no keepalived';
  if (images.has('prefix-preinstalled'))
    return 'nginx under /application/nginx (no nginx package), keepalived installed';
  return 'keepalived and nginx installed, not configured, not running';
}

function privateNetComment(plan: LabPlan): string[] {
  const nets = plan.clusters.flatMap((c) => (c.privateNet ? [`${c.name} ${c.privateNet.subnet}`] : []));
  if (nets.length === 0) return [];
  return [
    ` Private segments (VRRP adverts over eth1, VIPs on eth0; the machine has no address there): ${nets.join(', ')}.`,
  ];
}

export function inventoryYaml(inv: InventoryDoc, plan: LabPlan, outDir: string): string {
  const doc = new Document(inv);
  const releases = [...new Set(plan.hosts.map((h) => h.release))].join(', ');
  doc.commentBefore = [
    ` hactl lab ${plan.id}: written by \`hactl lab up\`, removed by \`hactl lab down --dir ${outDir}\`.`,
    ` Every host is a set of namespaces on this machine, on ${plan.subnet} (the machine is ${plan.bridgeIp})${plan.subnet6 ? ` and ${plan.subnet6} (${plan.bridgeIp6})` : ''}.`,
    ...privateNetComment(plan),
    ` Hosts run ${releases}. Load balancers: ${lbDescription(plan)}.`,
    ` Backends answer every path with "backend=<name> host=<Host header> uri=<uri>".`,
    ` To deploy as a non-root operator, set ssh.user to ${plan.nonRootUser} (same key, passwordless sudo).`,
  ].join('\n');
  const clusters = doc.get('clusters');
  if (isSeq(clusters)) {
    for (const cluster of clusters.items) {
      if (!isMap(cluster)) continue;
      for (const key of ['load_balancers', 'backends', 'vips']) {
        const seq = cluster.get(key);
        if (isSeq(seq)) for (const item of seq.items) if (isMap(item)) item.flow = true;
      }
      const vrrp = cluster.get('vrrp');
      if (isMap(vrrp)) vrrp.flow = true;
    }
  }
  return doc.toString({ lineWidth: 0 });
}

/** One line per host key: "<ip> <type> <base64>", the format OpenSSH and ssh2 both read. */
export function knownHosts(hosts: Pick<HostState, 'ip' | 'hostKeys'>[]): string {
  return hosts.flatMap((h) => h.hostKeys.map((k) => `${h.ip} ${k}`)).join('\n') + '\n';
}
