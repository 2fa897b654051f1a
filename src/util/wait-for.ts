/**
 * Poll with a deadline, never sleep a fixed time (STYLE 9). Every wait for a VIP, a service
 * or a backend goes through here, so a timeout always names what was awaited and what was
 * last seen.
 */
import { sleep } from './sleep.js';

export interface WaitForOptions {
  timeoutMs: number;
  intervalMs?: number;
  /** What is awaited, for the timeout message: "VIP 10.213.1.121 on lb2". */
  what: string;
  signal?: AbortSignal;
}

/** Thrown by a check when waiting longer cannot help (the process died): waitFor rethrows it at once. */
export class GiveUp extends Error {
  override name = 'GiveUp';
}

/**
 * Resolves with the first value `check` returns other than undefined, false or null. A throw
 * counts as "not yet" and becomes the last observation, except GiveUp, which ends the wait.
 */
export async function waitFor<T>(
  check: () => Promise<T | undefined | false | null> | T | undefined | false | null,
  opts: WaitForOptions,
): Promise<T> {
  const interval = opts.intervalMs ?? 100;
  const deadline = Date.now() + opts.timeoutMs;
  let last = 'no observation yet';
  for (let attempt = 1; ; attempt++) {
    if (opts.signal?.aborted) throw new Error(`gave up waiting for ${opts.what}: aborted (last: ${last})`);
    try {
      const value = await check();
      if (value !== undefined && value !== false && value !== null) return value;
      last = `check returned ${String(value)}`;
    } catch (err) {
      if (err instanceof GiveUp) throw err;
      last = err instanceof Error ? err.message : String(err);
    }
    const left = deadline - Date.now();
    if (left <= 0) {
      throw new Error(
        `timed out after ${opts.timeoutMs} ms waiting for ${opts.what} (${attempt} checks; last: ${last})`,
      );
    }
    await sleep(Math.min(interval, left), opts.signal);
  }
}
