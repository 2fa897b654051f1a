/**
 * The deploy lock on each host: a remote process holds flock(1) on /var/lib/hactl/deploy.lock
 * for as long as our SSH channel lives. If the operator's machine dies or the connection
 * drops, the heartbeat write fails, the process exits and the kernel releases the lock; the
 * holder note left behind is reported as a stale lock from a dead holder.
 */
import { sh } from '../shell/quote.js';
import { STATE_DIR } from './apply-script.js';

export const LOCK_FILE = `${STATE_DIR}/deploy.lock`;
export const LOCK_INFO = `${STATE_DIR}/deploy.lock.holder`;
export const LOCK_EXIT_HELD = 75;

/**
 * Acquire, print `@@lock acquired` (and `@@stale <holder>` when a dead holder left its note),
 * run `then` (the facts script) so one round trip does both, then heartbeat until our channel
 * closes.
 */
export function lockScript(holder: string, then: string, waitSeconds = 2): string {
  return [
    `mkdir -p ${STATE_DIR} && exec 9>>${LOCK_FILE} || exit 1`,
    `if ! flock -w ${waitSeconds} 9; then echo "@@lock held"; cat ${LOCK_INFO} 2>/dev/null; exit ${LOCK_EXIT_HELD}; fi`,
    `if [ -s ${LOCK_INFO} ]; then echo "@@stale $(cat ${LOCK_INFO})"; fi`,
    `printf '%s\\n' ${sh([holder])} > ${LOCK_INFO}`,
    'echo "@@lock acquired"',
    then,
    "trap '' PIPE",
    `while sleep 0.2; do echo . 2>/dev/null || break; done`,
    `rm -f ${LOCK_INFO}`,
  ].join('\n');
}

export interface LockOutcome {
  acquired: boolean;
  /** Holder note of the current holder (when refused) or of a dead one (stale). */
  holder?: string;
  stale?: string;
}

export function parseLockOutput(out: string): LockOutcome {
  const held = out.match(/^@@lock held\n([\s\S]*)$/m);
  if (held) return { acquired: false, holder: held[1].trim() || 'unknown holder' };
  const stale = out.match(/^@@stale (.*)$/m)?.[1];
  return { acquired: /^@@lock acquired$/m.test(out), stale };
}
