/**
 * keepalived's priority arithmetic, in one place: whether a failed nginx check moves a VIP
 * (lint), and how fast VRRP promises to move it (failover-test's bound).
 */
import type { HealthCheck } from './model.js';

export interface FailoverVerdict {
  ok: boolean;
  explanation: string;
  fix?: string;
}

/** Number of tracked checks a dead nginx fails at once. */
function checksPerNode(hc: HealthCheck): number {
  return hc.mode === 'both' ? 2 : hc.mode === 'none' ? 0 : 1;
}

export function failoverVerdict(hc: HealthCheck, master: string, priorities: Map<string, number>): FailoverVerdict {
  const k = checksPerNode(hc);
  const pm = priorities.get(master);
  const backups = [...priorities].filter(([lb]) => lb !== master);
  if (k === 0 || pm === undefined || backups.length === 0) return { ok: true, explanation: 'no check' };
  if (hc.weight === 0)
    return { ok: true, explanation: 'weight 0: a failed check puts the master in FAULT and releases the VIP' };
  const [bestName, bestPrio] = backups.reduce((a, b) => (b[1] > a[1] ? b : a));
  if (hc.weight < 0) {
    const failed = Math.max(1, pm + k * hc.weight);
    if (failed < bestPrio)
      return { ok: true, explanation: `master falls to ${failed}, below ${bestName}'s ${bestPrio}` };
    return {
      ok: false,
      explanation: `the check subtracts ${-hc.weight * k} from ${master}'s priority ${pm}, leaving ${failed}, which is not below ${bestName}'s ${bestPrio}`,
      fix: `use weight: 0 (FAULT on failure, recommended) or a weight below ${bestPrio - pm} (e.g. ${-(pm - bestPrio + 10)})`,
    };
  }
  // Positive weight: healthy nodes gain it; the failed master keeps its base priority.
  const worst = backups.reduce((a, b) => (b[1] < a[1] ? b : a));
  const boosted = worst[1] + k * hc.weight;
  if (pm < boosted)
    return { ok: true, explanation: `healthy ${worst[0]} rises to ${boosted}, above ${master}'s ${pm}` };
  return {
    ok: false,
    explanation: `a healthy backup gains +${hc.weight * k} (${worst[0]}: ${worst[1]} → ${boosted}) but ${master} keeps ${pm} with nginx dead, so ${pm} ≥ ${boosted} and it stays master`,
    fix: `use weight: 0 (FAULT on failure, recommended), or a weight above ${Math.ceil((pm - worst[1] + 1) / k)}, or a negative weight below ${bestPrio - pm}`,
  };
}

/** VRRP skew time: how long a backup waits beyond the master-down detection (RFC 3768/5798). */
export function skewTime(backupPriority: number, advertInt: number): number {
  return ((256 - backupPriority) / 256) * advertInt;
}

export type FaultKind = 'stop-nginx' | 'stop-keepalived' | 'kill-keepalived' | 'partition';

/** Seconds VRRP promises for the VIP to move after the fault, for the given new master. */
export function promisedFailoverSeconds(
  fault: FaultKind,
  hc: HealthCheck,
  advertInt: number,
  backupPriority: number,
): { seconds: number; formula: string } {
  const skew = skewTime(backupPriority, advertInt);
  const r = (n: number) => Math.round(n * 1000) / 1000;
  switch (fault) {
    case 'stop-keepalived':
      return { seconds: r(skew), formula: `skew (256-${backupPriority})/256×${advertInt}s` };
    case 'kill-keepalived':
    case 'partition':
      return { seconds: r(3 * advertInt + skew), formula: `3×${advertInt}s + skew ${r(skew)}s` };
    case 'stop-nginx': {
      const detect = hc.mode === 'process' ? 0 : hc.interval * hc.fall;
      // weight 0 → FAULT: the master sends priority 0 and the backup takes over after skew;
      // a weight change lowers the advertised priority, and the backup preempts at once on the next advert.
      const vrrp = hc.weight === 0 ? skew : advertInt + skew;
      return {
        seconds: r(detect + vrrp),
        formula: `${hc.mode === 'process' ? 'process event 0s' : `interval ${hc.interval}s × fall ${hc.fall}`} + ${hc.weight === 0 ? `skew ${r(skew)}s (FAULT)` : `advert ${advertInt}s + skew ${r(skew)}s`}`,
      };
    }
  }
}
