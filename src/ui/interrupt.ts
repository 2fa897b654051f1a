/**
 * Ctrl-C (SIGINT) and SIGTERM become an AbortSignal for the core, which finishes the step in
 * flight (a host's transaction, restoring a fault) and stops cleanly. A second Ctrl-C is
 * reported but still waits: leaving a host half-changed is worse than waiting a second.
 */
export async function withInterrupt<T>(
  fn: (signal: AbortSignal) => Promise<T>,
  say: (line: string) => void,
): Promise<T> {
  const ac = new AbortController();
  let count = 0;
  const handler = (sig: NodeJS.Signals) => {
    count++;
    if (count === 1) say(`\n${sig}: stopping after the step in flight (hosts stay on their old or new configuration)…`);
    else say(`${sig} again: still finishing the step in flight so no host is left half-changed…`);
    ac.abort(new Error(`interrupted by ${sig}`));
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  try {
    return await fn(ac.signal);
  } finally {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  }
}
