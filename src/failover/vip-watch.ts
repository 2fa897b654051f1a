/**
 * Watches which nodes hold which VIPs, every ~50 ms, over the existing SSH connections: one
 * long-running, bounded loop per node prints its addresses each tick; a change becomes a
 * HolderEvent stamped when it arrives here (the same clock as the probe's send times).
 */
import type { Transport } from '../transport/transport.js';
import type { HolderEvent } from './report.js';

export const WATCH_INTERVAL_S = 0.05;
const MAX_TICKS = 12_000; // 10 minutes at 50 ms: the loop is bounded even if the channel lingers

/** The remote loop: one line of "@ addr addr …" per tick; dies with the channel (SIGPIPE). */
export function watchScript(intervalS = WATCH_INTERVAL_S, maxTicks = MAX_TICKS): string {
  return [
    'i=0',
    `while [ "$i" -lt ${maxTicks} ]; do`,
    `  printf '@ %s\\n' "$(ip -o addr show 2>/dev/null | awk '{print $4}' | cut -d/ -f1 | tr '\\n' ' ')" || exit 0`,
    `  sleep ${intervalS} 2>/dev/null || sleep 1`,
    '  i=$((i+1))',
    'done',
  ].join('\n');
}

/** Parses one tick line into the set of VIPs (from `vips`) the node holds. */
export function parseTick(line: string, vips: readonly string[]): Set<string> | undefined {
  if (!line.startsWith('@')) return undefined;
  const addrs = new Set(line.slice(1).trim().split(/\s+/).filter(Boolean));
  return new Set(vips.filter((v) => addrs.has(v)));
}

export interface VipWatch {
  /** Nodes holding `ip` according to the latest tick of each node. */
  holders(ip: string): string[];
  /** Changes of `ip` since the watch started (the first tick of each node is not an event). */
  events(ip: string): HolderEvent[];
  /** Resolves once every node has reported at least once. */
  ready: Promise<void>;
  /** Epoch ms of the last tick from each node (a stalled node shows here). */
  lastTick(): Map<string, number>;
  /** Set when a node's watcher ended before stop(): its holder state is no longer current. */
  failure(): Error | undefined;
  stop(): Promise<void>;
}

export function watchVips(
  transports: ReadonlyMap<string, Transport>,
  vips: readonly string[],
  now: () => number = Date.now,
): VipWatch {
  const state = new Map<string, Set<string>>();
  const ticks = new Map<string, number>();
  const log: (HolderEvent & { ip: string })[] = [];
  const ac = new AbortController();
  let readyResolve!: () => void;
  let readyReject!: (e: Error) => void;
  let failed: Error | undefined;
  const fail = (e: Error) => {
    failed ??= e;
    readyReject(e);
  };
  const ready = new Promise<void>((res, rej) => ((readyResolve = res), (readyReject = rej)));
  ready.catch(() => undefined);
  const runs = [...transports].map(([lb, t]) => {
    let buf = '';
    const onLine = (line: string) => {
      const held = parseTick(line, vips);
      if (!held) return;
      const t0 = now();
      ticks.set(lb, t0);
      const before = state.get(lb);
      if (before)
        for (const ip of vips) if (before.has(ip) !== held.has(ip)) log.push({ t: t0, lb, ip, held: held.has(ip) });
      state.set(lb, held);
      if (state.size === transports.size) readyResolve();
    };
    return t
      .exec(watchScript(), {
        signal: ac.signal,
        onStdout: (chunk) => {
          buf += chunk;
          let n: number;
          while ((n = buf.indexOf('\n')) >= 0) {
            onLine(buf.slice(0, n));
            buf = buf.slice(n + 1);
          }
        },
      })
      .then(
        (r) => {
          if (!ac.signal.aborted) fail(new Error(`${lb}: the VIP watcher ended (exit ${r.code}): ${r.stderr.trim()}`));
        },
        (e: Error) => {
          if (!ac.signal.aborted) fail(e);
        },
      );
  });
  return {
    ready,
    holders: (ip) =>
      [...state]
        .filter(([, s]) => s.has(ip))
        .map(([lb]) => lb)
        .sort(),
    events: (ip) => log.filter((e) => e.ip === ip).map(({ t, lb, held }) => ({ t, lb, held })),
    lastTick: () => new Map(ticks),
    failure: () => failed,
    stop: async () => {
      ac.abort(new Error('watch stopped'));
      await Promise.all(runs);
    },
  };
}
