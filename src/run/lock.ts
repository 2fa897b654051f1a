/**
 * The deploy lock on each host: a remote process holds flock(1) on /var/lib/hactl/deploy.lock
 * for as long as our SSH channel lives: it waits for end-of-file on the stdin we hold open
 * (a shell builtin, no process per second, which matters with 50 hosts on one lab machine).
 * When we release, or the operator's machine dies, or the connection drops, sshd closes that
 * pipe, the process exits and the kernel releases the lock; a holder note left behind by a
 * process killed outright is reported as a stale lock from a dead holder.
 */
import { sh } from '../shell/quote.js';
import { STATE_DIR } from './apply-script.js';

export const LOCK_FILE = `${STATE_DIR}/deploy.lock`;
export const LOCK_INFO = `${STATE_DIR}/deploy.lock.holder`;
export const LOCK_EXIT_HELD = 75;

/**
 * Acquire, print `@@lock acquired` (and `@@stale <holder>` when a dead holder left its note),
 * run `then` (the facts script, its stdin cut off) so one round trip does both, then hold the
 * lock until stdin ends. Run it with ExecOptions.holdStdin.
 */
export function lockScript(holder: string, then: string, waitSeconds = 2): string {
  return [
    `mkdir -p ${STATE_DIR} && exec 9>>${LOCK_FILE} || exit 1`,
    `if ! flock -w ${waitSeconds} 9; then echo "@@lock held"; cat ${LOCK_INFO} 2>/dev/null; exit ${LOCK_EXIT_HELD}; fi`,
    `if [ -s ${LOCK_INFO} ]; then echo "@@stale $(cat ${LOCK_INFO})"; fi`,
    `printf '%s\\n' ${sh([holder])} > ${LOCK_INFO}`,
    'echo "@@lock acquired"',
    `{
${then}
} </dev/null`,
    'while read -r _; do :; done',
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
