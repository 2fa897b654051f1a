/**
 * Rolling order within a cluster: load balancers that master nothing first, then by how many
 * VIPs they master and their highest priority, so each VIP keeps a healthy holder while its
 * backups change, and its master changes last.
 */
import type { Cluster } from '../inventory/model.js';

export function rollingOrder(cluster: Cluster): string[] {
  const mastered = (lb: string) => cluster.vips.filter((v) => v.master === lb).length;
  const topPriority = (lb: string) =>
    Math.max(...cluster.vips.map((v) => v.nodes.find((n) => n.lb === lb)?.priority ?? 0));
  return cluster.lbs
    .map((lb, index) => ({ name: lb.name, index, m: mastered(lb.name), p: topPriority(lb.name) }))
    .sort((a, b) => a.m - b.m || a.p - b.p || a.index - b.index)
    .map((x) => x.name);
}
