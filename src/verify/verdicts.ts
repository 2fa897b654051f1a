/**
 * One answer per question, used by status, verify and deploy alike: is a VIP where it should
 * be, and what VRRP state is a node in.
 */
import type { Vip } from '../inventory/model.js';
import { holds, type HostFacts } from '../remote/facts.js';
import type { InstanceState } from '../remote/sections/keepalived.js';
import type { NotifiedState } from '../remote/sections/host.js';

export type VipHealth = 'ok' | 'failed-over' | 'down' | 'split-brain' | 'unknown';

export interface VipVerdict {
  health: VipHealth;
  /** Healthy as configured: one holder, and it is the master unless preemption is off. */
  ok: boolean;
  detail: string;
}

/**
 * `holders`: the reachable load balancers that have the VIP's address; `unknown`: those that
 * could not be asked (their holding is not known, so "nobody holds it" cannot be said).
 */
export function vipVerdict(
  vip: Pick<Vip, 'master' | 'preempt'>,
  holders: string[],
  unknown: string[],
  /** Nodes `hactl drain` took out of every election: their not holding the VIP is intended. */
  drained: readonly string[] = [],
): VipVerdict {
  const unasked = unknown.length ? `; ${unknown.join(', ')} could not be asked` : '';
  if (holders.length > 1)
    return { health: 'split-brain', ok: false, detail: `SPLIT BRAIN: held by ${holders.join(' and ')}` };
  if (holders.length === 0)
    return unknown.length
      ? { health: 'unknown', ok: false, detail: `not known who holds it: none of the reachable nodes does${unasked}` }
      : { health: 'down', ok: false, detail: 'VIP down: no load balancer holds it' };
  const [holder] = holders;
  if (holder === vip.master) return { health: 'ok', ok: true, detail: `held by ${holder} (its master)${unasked}` };
  if (drained.includes(vip.master))
    return {
      health: 'failed-over',
      ok: true,
      detail: `held by ${holder}: its master ${vip.master} is drained (hactl undrain ${vip.master} brings it back)${unasked}`,
    };
  const why = vip.preempt
    ? `a failover happened and ${vip.master} has not taken it back (is it healthy?)`
    : 'preemption is off, so it stays until the holder fails';
  return {
    health: 'failed-over',
    ok: !vip.preempt,
    detail: `held by ${holder}, not its master ${vip.master}: ${why}${unasked}`,
  };
}

export type StateSource = 'keepalived' | 'notify' | 'vip';

export interface NodeState {
  /** MASTER, BACKUP, FAULT, STOP, INIT; 'down' when keepalived is not running. */
  state: string;
  source?: StateSource;
  priority?: number;
}

/**
 * A node's VRRP state for one instance, from the best source there is: keepalived's own data
 * dump, else the state hactl's notify script recorded (keepalived runs notify scripts
 * concurrently, so after quick transitions it can lag), else whether the node has the VIP.
 */
export function vrrpState(o: {
  keepalivedRunning: boolean;
  keepalived?: InstanceState;
  notified?: NotifiedState;
  holdsVip: boolean;
}): NodeState {
  if (!o.keepalivedRunning) return { state: 'down' };
  if (o.keepalived && o.keepalived.state !== 'UNKNOWN')
    return {
      state: o.keepalived.state,
      source: 'keepalived',
      ...(o.keepalived.priority !== undefined ? { priority: o.keepalived.priority } : {}),
    };
  if (o.notified) return { state: o.notified.state, source: 'notify', priority: o.notified.priority };
  return { state: o.holdsVip ? 'MASTER' : 'BACKUP', source: 'vip' };
}

/** A node's state for one VIP from its facts (and keepalived's own data dump, when read), and whether it holds the VIP. */
export function nodeVrrpState(
  vip: Pick<Vip, 'name' | 'ip'>,
  facts: HostFacts,
  keepalived?: Map<string, InstanceState>,
): NodeState & { holdsVip: boolean } {
  const holdsVip = holds(facts, vip.ip);
  const st = vrrpState({
    keepalivedRunning: facts.running.keepalived,
    keepalived: keepalived?.get(vip.name),
    notified: facts.notified[vip.name],
    holdsVip,
  });
  return { ...st, holdsVip };
}
