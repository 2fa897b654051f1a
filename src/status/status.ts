/**
 * hactl status, the pure part: from each load balancer's facts (or why there are none) to who
 * holds each VIP, who should, and each load balancer's VRRP state per instance and services.
 */
import type { Inventory, Vip } from '../inventory/model.js';
import { holds, type HostFacts } from '../remote/facts.js';
import type { InstanceState } from '../remote/sections/keepalived.js';
import { nodeVrrpState, vipVerdict, type StateSource, type VipHealth } from '../verify/verdicts.js';
import { nearestExpiries, type CertificateExpiry } from './tls-expiry.js';
import type { FaultLeftovers } from '../remote/sections/faults.js';
import { describeLeftovers } from '../failover/leftovers.js';
import { isNodeDrained } from '../remote/sections/drain.js';

/** What one refresh learned from one load balancer. */
export interface HostObservation {
  facts?: HostFacts;
  /** VRRP state from keepalived's own data dump, by instance name. */
  keepalived?: Map<string, InstanceState>;
  /** keepalived's vrrp_scripts and their status (GOOD, BAD, INIT…), by script name. */
  scripts?: Map<string, string>;
  /** What failover-test left on the host. */
  leftovers?: FaultLeftovers;
  /** Why there are no facts (connect or exec failure). */
  error?: string;
}

export type { StateSource, VipHealth };

export interface InstanceView {
  vip: string;
  /** MASTER, BACKUP, FAULT, STOP, INIT; 'down' when keepalived is not running; '?' when unreachable. */
  state: string;
  source?: StateSource;
  priority?: number;
  holdsVip: boolean;
}

export interface LbView {
  cluster: string;
  name: string;
  reachable: boolean;
  error?: string;
  keepalived?: boolean;
  nginx?: boolean;
  /** Taken out of every election by `hactl drain` (its VRRP state is BACKUP or FAULT on purpose). */
  drained?: boolean;
  /** Backends drained in this host's nginx (`hactl drain --backend`). */
  drainedBackends?: string[];
  instances: InstanceView[];
  /** keepalived's vrrp_scripts (hactl's nginx checks) as keepalived holds them; empty when it did not say. */
  scripts: { name: string; status: string }[];
  /** What failover-test left there, one line each (empty when nothing). */
  leftovers: string[];
}

export interface VipView {
  cluster: string;
  name: string;
  address: string;
  master: string;
  /** Load balancers that have the address on an interface now (among the reachable ones). */
  holders: string[];
  health: VipHealth;
  /** Load balancers that could not be asked, so holders may be incomplete. */
  unknown: string[];
}

export interface StatusReport {
  /** false when a VIP has no holder or more than one (exit code 1). */
  ok: boolean;
  /** Unix milliseconds of the refresh. */
  at: number;
  vips: VipView[];
  lbs: LbView[];
  /** Per cluster with TLS sites: the deployed certificate that expires first. */
  certificates: CertificateExpiry[];
}

function instanceView(vip: Vip, o: HostObservation & { facts: HostFacts }): InstanceView {
  return { vip: vip.name, ...nodeVrrpState(vip, o.facts, o.keepalived) };
}

export function buildStatus(inv: Inventory, observed: Map<string, HostObservation>, at: number): StatusReport {
  const lbs: LbView[] = [];
  const vips: VipView[] = [];
  for (const cluster of inv.clusters) {
    for (const lb of cluster.lbs) {
      const o = observed.get(lb.name) ?? { error: 'not asked' };
      if (!o.facts) {
        lbs.push({
          cluster: cluster.name,
          name: lb.name,
          reachable: false,
          error: o.error,
          instances: cluster.vips.map((v) => ({ vip: v.name, state: '?', holdsVip: false })),
          scripts: [],
          leftovers: [],
        });
        continue;
      }
      lbs.push({
        cluster: cluster.name,
        name: lb.name,
        reachable: true,
        keepalived: o.facts.running.keepalived,
        nginx: o.facts.running.nginx,
        drained: isNodeDrained(o.facts.drain),
        drainedBackends: o.facts.drain?.backends.map((b) => b.name) ?? [],
        instances: cluster.vips.map((v) => instanceView(v, { ...o, facts: o.facts! })),
        scripts: [...(o.scripts ?? [])].map(([name, status]) => ({ name, status })),
        leftovers: o.leftovers ? describeLeftovers(o.leftovers) : [],
      });
    }
    for (const vip of cluster.vips) {
      const holders = cluster.lbs
        .filter((lb) => {
          const f = observed.get(lb.name)?.facts;
          return f !== undefined && holds(f, vip.ip);
        })
        .map((lb) => lb.name);
      const unknown = cluster.lbs.filter((lb) => !observed.get(lb.name)?.facts).map((lb) => lb.name);
      const drained = cluster.lbs.filter((lb) => isNodeDrained(observed.get(lb.name)?.facts?.drain));
      const { health } = vipVerdict(
        vip,
        holders,
        unknown,
        drained.map((lb) => lb.name),
      );
      vips.push({
        cluster: cluster.name,
        name: vip.name,
        address: vip.cidr,
        master: vip.master,
        holders,
        health,
        unknown,
      });
    }
  }
  const certificates = nearestExpiries(inv, (lb) => observed.get(lb)?.facts, new Date(at));
  return { ok: vips.every((v) => v.health === 'ok' || v.health === 'failed-over'), at, vips, lbs, certificates };
}
