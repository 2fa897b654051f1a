/**
 * The nearest certificate expiry per cluster, read from the certificate files on the load
 * balancers (what nginx serves after its next reload), not from the inventory: after a
 * partial rollout it is the oldest certificate still deployed that expires first.
 */
import type { Cluster, Inventory } from '../inventory/model.js';
import type { HostFacts } from '../remote/facts.js';
import { tlsPaths, tlsSites } from '../render/tls.js';
import { daysLeft, parseChain, summarize } from '../util/x509.js';

export interface CertificateExpiry {
  cluster: string;
  site: string;
  lb: string;
  /** ISO time of the leaf's notAfter. */
  notAfter: string;
  daysLeft: number;
  /** The site's expiry_warning_days. */
  warningDays: number;
  fingerprint256: string;
}

/** The certificate files status reads from each load balancer of a cluster. */
export const certificateFiles = (cluster: Cluster): string[] => tlsSites(cluster).map((s) => tlsPaths(s).certificate);

function deployedLeaf(facts: HostFacts | undefined, path: string) {
  const pem = facts?.files[path]?.content;
  if (!pem) return undefined;
  try {
    const [leaf] = parseChain(pem);
    return leaf ? summarize(leaf) : undefined;
  } catch {
    return undefined;
  }
}

export function nearestExpiries(
  inv: Inventory,
  facts: (lb: string) => HostFacts | undefined,
  now: Date,
): CertificateExpiry[] {
  return inv.clusters.flatMap((cluster) => {
    const all = tlsSites(cluster).flatMap((site) =>
      cluster.lbs.flatMap((lb) => {
        const leaf = deployedLeaf(facts(lb.name), tlsPaths(site).certificate);
        if (!leaf) return [];
        const days = daysLeft(leaf.notAfter, now);
        return [
          {
            cluster: cluster.name,
            site: site.name,
            lb: lb.name,
            notAfter: leaf.notAfter,
            daysLeft: days,
            warningDays: site.tls.expiryWarningDays,
            fingerprint256: leaf.fingerprint256,
          },
        ];
      }),
    );
    const nearest = all.sort((a, b) => a.notAfter.localeCompare(b.notAfter))[0];
    return nearest ? [nearest] : [];
  });
}
