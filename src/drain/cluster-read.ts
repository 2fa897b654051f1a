/**
 * What drain and undrain read before acting: each node of the cluster (connected once, kept
 * for the waits), its facts with keepalived.conf and the site file, and keepalived's own state.
 */
import { UsageError } from '../errors.js';
import type { Cluster, Inventory, LoadBalancer } from '../inventory/model.js';
import { readFacts, type HostFacts } from '../remote/facts.js';
import { HOST_PATHS } from '../remote/paths.js';
import { keepalivedDataSection, type InstanceState } from '../remote/sections/keepalived.js';
import { nginxArgv, nginxSiteFile } from '../shell/nginx.js';
import type { LbConnector, Transport } from '../transport/transport.js';

export interface NodeRead {
  lb: LoadBalancer;
  transport?: Transport;
  facts?: HostFacts;
  keepalived?: Map<string, InstanceState>;
  /** Why the node could not be read. */
  error?: string;
}

export function findLb(inv: Inventory, name: string): { cluster: Cluster; lb: LoadBalancer } {
  for (const cluster of inv.clusters) {
    const lb = cluster.lbs.find((l) => l.name === name);
    if (lb) return { cluster, lb };
  }
  const all = inv.clusters.flatMap((c) => c.lbs.map((l) => l.name));
  throw new UsageError(`${inv.file}: no load balancer named ${name}; the inventory has ${all.join(', ')}`);
}

/** The files drain reads on every node: keepalived.conf (its tracker) and the nginx site file. */
export function drainFiles(cluster: Cluster, lb: LoadBalancer): string[] {
  return [HOST_PATHS.keepalivedConf, nginxSiteFile(lb.nginx, cluster.name)];
}

export async function readNode(
  cluster: Cluster,
  lb: LoadBalancer,
  connect: LbConnector,
  signal?: AbortSignal,
): Promise<NodeRead> {
  let transport: Transport | undefined;
  try {
    transport = await connect(lb);
    const req = {
      files: drainFiles(cluster, lb),
      sysctl: [],
      statusPort: cluster.nginxStatusPort,
      nginxConfDir: lb.nginx.includeDir,
      nginx: nginxArgv(lb.nginx),
    };
    const { facts, extra } = await readFacts(transport, req, [keepalivedDataSection] as const, {
      step: 'drain facts',
      timeoutMs: 20_000,
      ...(signal ? { signal } : {}),
    });
    return { lb, transport, facts, keepalived: extra[0] };
  } catch (e) {
    return { lb, ...(transport ? { transport } : {}), error: (e as Error).message };
  }
}

export async function readCluster(cluster: Cluster, connect: LbConnector, signal?: AbortSignal): Promise<NodeRead[]> {
  return Promise.all(cluster.lbs.map((lb) => readNode(cluster, lb, connect, signal)));
}

export async function closeAll(nodes: readonly NodeRead[]): Promise<void> {
  await Promise.all(nodes.map((n) => n.transport?.close().catch(() => undefined)));
}
