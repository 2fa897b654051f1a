/**
 * Pure: the lab's inventory.yaml, in the style of inventory.example.yaml, and its known_hosts.
 * Valid against src/inventory/schema.ts; strict host key checking against the keys the hosts
 * generated at boot.
 */
import { randomInt } from 'node:crypto';
import { Document, isMap, isSeq } from 'yaml';
import type { InventoryDoc } from '../inventory/schema.js';
import type { HostState, LabPlan } from './types.js';

export interface InventoryInput {
  plan: LabPlan;
  identityFile: string;
  knownHostsFile: string;
  vrrpPass: string;
}

const PASS_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';

/** keepalived PASS authentication: at most 8 characters. */
export function randomVrrpPass(length = 8): string {
  return Array.from({ length }, () => PASS_ALPHABET[randomInt(PASS_ALPHABET.length)]).join('');
}

export function labInventory({ plan, identityFile, knownHostsFile, vrrpPass }: InventoryInput): InventoryDoc {
  const ipOf = (name: string) => plan.hosts.find((h) => h.name === name)?.ip ?? '';
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
    clusters: plan.clusters.map((c) => ({
      name: c.name,
      interface: 'eth0',
      load_balancers: c.lbs.map((name) => ({ name, address: ipOf(name) })),
      vrrp: { advert_int: 1, auth: { type: 'PASS' as const, pass: vrrpPass } },
      vips: c.vips.map((v) => ({ name: v.name, address: v.cidr, vrid: v.vrid, master: v.master })),
      backends,
      sites: [
        {
          name: 'www',
          server_names: [plan.serverName],
          vips: c.vips.map((v) => v.name),
          port: 80,
          backends: plan.backends,
          health_path: plan.healthPath,
        },
      ],
    })),
  };
}

export function inventoryYaml(inv: InventoryDoc, plan: LabPlan, outDir: string): string {
  const doc = new Document(inv);
  doc.commentBefore = [
    ` hactl lab ${plan.id}: written by \`hactl lab up\`, removed by \`hactl lab down --dir ${outDir}\`.`,
    ` Every host is a set of namespaces on this machine, on ${plan.subnet} (the machine is ${plan.bridgeIp}).`,
    ` Load balancers are fresh: keepalived and nginx installed, not configured, not running.`,
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
