/**
 * The VRID census before a cluster's first deploy: when none of its nodes has hactl's
 * configuration yet, every node listens for VRRP adverts on its interface (one exec each, in
 * parallel) and the deploy refuses when a router outside the cluster already uses one of its
 * VRIDs. A cluster hactl already runs is not listened to again: its own adverts are on the
 * segment, and `hactl verify --census` checks it on demand.
 */
import type { Cluster, Inventory } from '../inventory/model.js';
import type { HostFacts } from '../remote/facts.js';
import { HOST_PATHS } from '../remote/paths.js';
import { gather } from '../remote/section.js';
import { advertsSection, type Heard } from '../remote/sections/discovery.js';
import type { Transport } from '../transport/transport.js';
import { census, censusSeconds, describeCollision, type CensusReport } from '../verify/census.js';

export interface CensusHost {
  transport: Transport;
  facts: HostFacts;
}

/** hactl has configured this node before: its keepalived.conf is hactl's, or it holds a release. */
export function hasHactlConfig(facts: HostFacts): boolean {
  const conf = facts.files[HOST_PATHS.keepalivedConf];
  return (conf?.content ?? '').includes('Managed by hactl') || facts.release !== undefined;
}

async function listen(t: Transport, seconds: number, signal?: AbortSignal): Promise<Heard> {
  const [heard] = await gather(t, [advertsSection(seconds)] as const, {
    step: 'census',
    timeoutMs: (seconds + 15) * 1000,
    ...(signal ? { signal } : {}),
  });
  return heard;
}

/** The census of every cluster deployed for the first time; clusters hactl already runs are skipped. */
export async function firstDeployCensus(
  inv: Inventory,
  host: (lb: string) => CensusHost | undefined,
  signal?: AbortSignal,
): Promise<CensusReport[]> {
  const fresh = inv.clusters.filter((c) =>
    c.lbs.every((lb) => {
      const h = host(lb.name);
      return h !== undefined && !hasHactlConfig(h.facts);
    }),
  );
  return Promise.all(
    fresh.map(async (cluster: Cluster) => {
      const seconds = censusSeconds(cluster);
      const heard = new Map<string, Heard>();
      await Promise.all(
        cluster.lbs.flatMap((lb) => {
          const h = host(lb.name);
          return h ? [listen(h.transport, seconds, signal).then((x) => heard.set(lb.name, x))] : [];
        }),
      );
      return census(cluster, heard, (n) => host(n)?.facts);
    }),
  );
}

/** What stops a first deploy: collisions, and nodes that could not listen (the census could not vouch for them). */
export function censusRefusal(reports: readonly CensusReport[]): string | undefined {
  const lines = reports.flatMap((r) => [
    ...r.collisions.map((c) => describeCollision(r.cluster, c)),
    ...r.problems.map((p) => `cluster ${r.cluster}: ${p}`),
  ]);
  if (lines.length === 0) return undefined;
  return `VRID census: ${lines.join('; ')}. Deploying would make two routers fight over the VIP (split brain); give the VIP a VRID nobody on the segment uses, or re-run with --force-vrid to deploy anyway`;
}
