/**
 * Which VIP a failover-test breaks, who should take it over, and what the configuration
 * promises. Pure: inventory model + current holders in, plan out.
 */
import type { Cluster, Inventory, Vip } from '../inventory/model.js';
import { UsageError } from '../errors.js';
import { promisedFailoverSeconds } from '../inventory/vrrp-math.js';
import { FAULT_EVENT, type FaultKind } from './faults.js';

export interface FaultPlan {
  kind: FaultKind;
  cluster: string;
  vip: string;
  /** Address without prefix. */
  ip: string;
  /** The node that holds the VIP now and gets the fault. */
  oldMaster: string;
  /** Highest-priority other node: the one VRRP should elect. */
  expectedNewMaster: string;
  preempt: boolean;
  advertInt: number;
  vrrpVersion: 2 | 3;
  boundMs: number;
  boundFormula: string;
}

export interface VipTarget {
  cluster: Cluster;
  vip: Vip;
}

/** --vip NAME or cluster/NAME; default the first VIP of the first cluster. */
export function findVip(inv: Inventory, name?: string): VipTarget {
  const [c, v] = name?.includes('/') ? name.split('/', 2) : [undefined, name];
  for (const cluster of inv.clusters) {
    if (c && cluster.name !== c) continue;
    for (const vip of cluster.vips) if (!v || vip.name === v) return { cluster, vip };
  }
  const known = inv.clusters.flatMap((cl) => cl.vips.map((x) => `${cl.name}/${x.name}`)).join(', ');
  throw new UsageError(`no VIP named ${name} in the inventory (known: ${known})`);
}

export function expectedBackup(vip: Vip, master: string): { lb: string; priority: number } | undefined {
  const others = vip.nodes.filter((n) => n.lb !== master);
  if (others.length === 0) return undefined;
  const best = others.reduce((a, b) => (b.priority > a.priority ? b : a));
  return { lb: best.lb, priority: best.priority };
}

export function planFault(kind: FaultKind, { cluster, vip }: VipTarget, holder: string): FaultPlan {
  const next = expectedBackup(vip, holder);
  if (!next) throw new UsageError(`${cluster.name}/${vip.name} has no backup node: a failover cannot be tested`);
  const bound = promisedFailoverSeconds(FAULT_EVENT[kind], cluster.healthCheck, vip.advertInt, next.priority);
  return {
    kind,
    cluster: cluster.name,
    vip: vip.name,
    ip: vip.ip,
    oldMaster: holder,
    expectedNewMaster: next.lb,
    preempt: vip.preempt,
    advertInt: vip.advertInt,
    vrrpVersion: vip.vrrpVersion,
    boundMs: Math.round(bound.seconds * 1000),
    boundFormula: bound.formula,
  };
}
