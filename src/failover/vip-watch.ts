/**
 * Watches which nodes hold which VIPs, every ~50 ms, over the existing SSH connections: one
 * long-running, bounded loop per node (remote/sections/watch.ts) prints its addresses each
 * tick; a change becomes a HolderEvent stamped when it arrives here (the same clock as the
 * probe's send times).
 */
import { render } from '../remote/script.js';
import { TICK_MARKER, watchSection } from '../remote/sections/watch.js';
import type { Transport } from '../transport/transport.js';
import type { HolderEvent } from './report.js';

/** Splits the watch's output into ticks: the lines up to each `@tick` marker. */
export function tickSplitter(onTick: (lines: string[]) => void): (chunk: string) => void {
  let buf = '';
  let tick: string[] = [];
  return (chunk) => {
    buf += chunk;
    let n: number;
    while ((n = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, n);
      buf = buf.slice(n + 1);
      if (line === TICK_MARKER) {
        onTick(tick);
        tick = [];
      } else tick.push(line);
    }
  };
}

export interface VipWatch {
  /** Nodes holding `ip` according to the latest tick of each node. */
  holders(ip: string): string[];
  /** Changes of `ip` since the watch started (the first tick of each node is not an event). */
  events(ip: string): HolderEvent[];
  /** Resolves once every node has reported at least once. */
  ready: Promise<void>;
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
  const section = watchSection();
  const runs = [...transports].map(([lb, t]) => {
    const onTick = (lines: string[]) => {
      const addrs = section.parse(lines);
      const held = new Set(vips.filter((v) => addrs.has(v)));
      const t0 = now();
      const before = state.get(lb);
      if (before)
        for (const ip of vips) if (before.has(ip) !== held.has(ip)) log.push({ t: t0, lb, ip, held: held.has(ip) });
      state.set(lb, held);
      if (state.size === transports.size) readyResolve();
    };
    return t.exec(render(section.script, t.rootPrefix), { signal: ac.signal, onStdout: tickSplitter(onTick) }).then(
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
    failure: () => failed,
    stop: async () => {
      ac.abort(new Error('watch stopped'));
      await Promise.all(runs);
    },
  };
}
