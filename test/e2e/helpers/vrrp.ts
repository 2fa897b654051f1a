/**
 * VRRP from a test's point of view: who holds a VIP, waiting for it to settle, and cutting
 * VRRP between two hosts (iptables on IP protocol 112 in each host's netns) and healing it.
 */
import { findHost } from '../../../src/lab/exec.js';
import type { LabState } from '../../../src/lab/types.js';
import { waitFor } from '../../../src/util/wait-for.js';
import { inNetns } from './host.js';

/** Names of the hosts (default: every load balancer) that have `vip` on eth0 right now. */
export async function vipHolders(lab: LabState, vip: string, names?: string[]): Promise<string[]> {
  const candidates = names ?? lab.hosts.filter((h) => h.role === 'lb').map((h) => h.name);
  const held = await Promise.all(
    candidates.map(async (name) => {
      const r = await inNetns(lab, name, ['ip', '-4', '-o', 'addr', 'show', 'dev', 'eth0']);
      if (r.exitCode !== 0) throw new Error(`ip addr in ${name}: ${r.stderr}`);
      return r.stdout.includes(` ${vip}/`) ? name : undefined;
    }),
  );
  return held.filter((n): n is string => n !== undefined);
}

/** Waits until exactly `expected` hold the VIP (order ignored); resolves with the ms it took. */
export async function waitForVip(
  lab: LabState,
  vip: string,
  expected: string[],
  timeoutMs = 15_000,
  names?: string[],
): Promise<number> {
  const start = Date.now();
  const want = [...expected].sort().join(',');
  let seen = '';
  await waitFor(
    async () => {
      seen = (await vipHolders(lab, vip, names)).sort().join(',');
      if (seen !== want) throw new Error(`held by [${seen}]`);
      return true;
    },
    { timeoutMs, intervalMs: 100, what: `VIP ${vip} held by exactly [${want}]` },
  );
  return Date.now() - start;
}

function rule(op: '-I' | '-D', fromIp: string): string[] {
  return ['iptables', '-w', op, 'INPUT', '-p', '112', '-s', fromIp, '-j', 'DROP'];
}

/**
 * Drops VRRP adverts between hosts a and b in both directions. Returns the undo, which is
 * safe to call more than once (call it in a finally).
 */
export async function dropVrrp(lab: LabState, a: string, b: string): Promise<() => Promise<void>> {
  const A = findHost(lab, a);
  const B = findHost(lab, b);
  const pairs: [string, string][] = [
    [a, B.ip],
    [b, A.ip],
  ];
  for (const [host, from] of pairs) {
    const r = await inNetns(lab, host, rule('-I', from));
    if (r.exitCode !== 0) throw new Error(`iptables in ${host}: ${r.stderr}`);
  }
  let undone = false;
  return async () => {
    if (undone) return;
    undone = true;
    for (const [host, from] of pairs) await inNetns(lab, host, rule('-D', from));
  };
}
