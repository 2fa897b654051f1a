/**
 * What failover-test left on a host, in words: each fault record with who started it, when,
 * and when its watchdog undoes it; rules with hactl's comment that no record explains; frozen
 * processes. Pure, shared by verify, status and `failover-test --undo`.
 */
import type { FaultLeftovers, FaultRecord } from '../remote/sections/faults.js';

export const UNDO_HINT = '`hactl failover-test --undo`';

/** Unix seconds → "2026-12-02 10:00:00Z". */
export function hostTime(s: number | undefined): string {
  if (s === undefined) return 'an unknown time';
  return new Date(s * 1000)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z');
}

/** "alice@laptop" → "alice on laptop". */
function byWhom(by: string): string {
  const at = by.lastIndexOf('@');
  return at > 0 ? `${by.slice(0, at)} on ${by.slice(at + 1)}` : by;
}

function whatNext(r: FaultRecord, now: number): string {
  switch (r.status) {
    case 'firing':
    case 'undoing':
      return 'being undone right now';
    case 'failed':
      return `its watchdog could not undo it (its log is beside the record); undo it now with ${UNDO_HINT}`;
    default:
      if (!r.watchdogAlive)
        return `its watchdog is gone (the host rebooted, or it was killed): undo it now with ${UNDO_HINT}`;
      return `undone automatically at ${hostTime(r.deadline)}${r.deadline !== undefined ? ` (in ${Math.max(0, r.deadline - now)} s)` : ''}, or now with ${UNDO_HINT}`;
  }
}

export function describeRecord(r: FaultRecord, now: number): string {
  const what = `${r.kind} (${r.describe || 'no description'})`;
  const when = `started at ${hostTime(r.started)} by ${byWhom(r.by)}`;
  if (r.status === 'armed' && r.sessionAlive)
    return `${what} in place: a failover-test ${when} is still connected and undoes it itself (its watchdog at ${hostTime(r.deadline)} if it cannot)`;
  return `${what} left by an interrupted failover-test ${when}: ${whatNext(r, now)}`;
}

/** One line per thing hactl left; empty when the host is clean. */
export function describeLeftovers(l: FaultLeftovers): string[] {
  const out = l.records.map((r) => describeRecord(r, l.now));
  const explained = l.records.some((r) => r.kind === 'partition' || r.kind === 'isolate');
  if (l.rules.length && !explained)
    out.push(
      `${l.rules.length} firewall rule(s) marked hactl-failover-test with no fault record (an older hactl, or the record was removed): remove them with ${UNDO_HINT}`,
    );
  const frozenExplained = l.records.some((r) => r.kind === 'freeze');
  for (const f of l.frozen)
    if (!frozenExplained)
      out.push(
        `${f.program} (pid ${f.pid}) is stopped by a signal (SIGSTOP) and no hactl fault explains it: resume it with kill -CONT ${f.pid}`,
      );
  return out;
}
