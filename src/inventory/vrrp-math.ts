/**
 * keepalived's priority and timer arithmetic, in one place: whether a failed nginx check moves
 * a VIP (lint), how fast VRRP promises to move it (failover-test's bounds), and how long a
 * cluster takes to converge after keepalived (re)starts (deploy's waits).
 */
import type { Cluster, HealthCheck, Vip } from './model.js';

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

/**
 * keepalived reads vrrp_script interval and timeout as whole seconds (2.1.5 to 2.3.3 alike). An
 * interval below one second therefore becomes a check that keepalived runs every second and that
 * probes nginx itself every `interval` seconds within the run: it exits 1 at the first failed
 * probe and 0 once the sleep before another probe and a healthy probe's time (PROBE_CS) could
 * end after RUN_BUDGET_CS of the second, so the run ends before the next one is due. A slow
 * probe that would overrun fails by its own timeout, which ends the run anyway. keepalived's
 * timeout for a run is 2 s, beyond its own end, so a run slowed by a loaded host is never killed
 * (and counted failed) for that alone.
 */
export const RUN_BUDGET_CS = 95;
export const PROBE_CS = 5;

export interface CheckRuns {
  /** keepalived's vrrp_script interval and timeout, whole seconds. */
  interval: number;
  timeout: number;
  /** Probing within a run (interval below 1 s): centiseconds between probes, per probe, and the run's end. */
  loop?: { everyCs: number; probeTimeout: number; budgetCs: number; reserveCs: number };
}

export function checkRuns(hc: Pick<HealthCheck, 'interval' | 'timeout'>): CheckRuns {
  if (hc.interval >= 1) return { interval: hc.interval, timeout: hc.timeout };
  return {
    interval: 1,
    timeout: 2,
    loop: {
      everyCs: Math.round(hc.interval * 100),
      probeTimeout: hc.timeout,
      budgetCs: RUN_BUDGET_CS,
      reserveCs: Math.round(hc.interval * 100) + PROBE_CS,
    },
  };
}

/**
 * Longest time from nginx dying to the check failing: fall runs of keepalived's. Probing within
 * runs, the longest quiet stretch is the gap between runs (a run's last probe ends after
 * budget − interval − PROBE_CS), then a probe and its timeout.
 */
export function detectionSeconds(hc: HealthCheck): number {
  if (hc.mode === 'process') return 0;
  return Math.min(httpDetectionSeconds(hc), aliveDetectionSeconds(hc));
}

function httpDetectionSeconds(hc: HealthCheck): number {
  const runs = checkRuns(hc);
  if (!runs.loop) return hc.interval * hc.fall;
  const gap = 1 - (RUN_BUDGET_CS - PROBE_CS) / 100 + hc.interval;
  return (hc.fall - 1) * runs.interval + gap + hc.timeout;
}

/**
 * The alive check (health_check.alive_interval) connects within one-second runs as the
 * sub-second HTTP check probes, with fall 1, and a refused connect returns at once: the longest
 * quiet stretch is the gap between runs, then one connect. Infinity when there is none.
 */
export function aliveDetectionSeconds(hc: Pick<HealthCheck, 'aliveInterval'>): number {
  if (!(hc.aliveInterval > 0)) return Infinity;
  return 1 - (RUN_BUDGET_CS - PROBE_CS) / 100 + hc.aliveInterval + PROBE_CS / 100;
}

/**
 * The alive check's keepalived runs and in-run connects (as checkRuns for the HTTP check). A
 * loopback connect is answered or refused by the kernel at once; it waits only when nginx has
 * stopped accepting and its backlog is full, and then keepalived's 2 s timeout kills the run,
 * which fails it: nginx is hung past any doubt by then.
 */
export function aliveRuns(hc: Pick<HealthCheck, 'aliveInterval'>): CheckRuns | undefined {
  if (!(hc.aliveInterval > 0)) return undefined;
  return checkRuns({ interval: hc.aliveInterval, timeout: PROBE_CS / 100 });
}

/** VRRP skew time: how long a backup waits beyond the master-down detection (RFC 3768/5798). */
export function skewTime(backupPriority: number, advertInt: number): number {
  return ((256 - backupPriority) / 256) * advertInt;
}

/** What happened to the master, as VRRP sees it. */
export type MasterEvent =
  /** keepalived stopped gracefully: it sends priority 0, the backup takes over after its skew. */
  | 'graceful-stop'
  /** The master went silent (crash, power loss, partition): master-down interval. */
  | 'silent'
  /** nginx died: the health check fails, then VRRP moves the VIP by the check's weight mode. */
  | 'nginx-death';

/** Seconds VRRP promises for the VIP to move after the event, for the given new master. */
export function promisedFailoverSeconds(
  event: MasterEvent,
  hc: HealthCheck,
  advertInt: number,
  backupPriority: number,
): { seconds: number; formula: string } {
  const skew = skewTime(backupPriority, advertInt);
  const r = (n: number) => Math.round(n * 1000) / 1000;
  switch (event) {
    case 'graceful-stop':
      return { seconds: r(skew), formula: `skew (256-${backupPriority})/256×${advertInt}s` };
    case 'silent':
      return { seconds: r(3 * advertInt + skew), formula: `3×${advertInt}s + skew ${r(skew)}s` };
    case 'nginx-death': {
      const detect = detectionSeconds(hc);
      // weight 0 → FAULT: the master sends priority 0 and the backup takes over after skew.
      // A weight: the master keeps advertising at its lowered priority, which a preempting
      // backup discards (RFC 3768 6.4.2), so the backup takes over when its master-down timer
      // (3 × advert_int + skew, last reset by an advert sent before the check failed) runs out.
      const vrrp = hc.weight === 0 ? skew : 3 * advertInt + skew;
      return {
        seconds: r(detect + vrrp),
        formula: `${detectionFormula(hc, detect)} + ${hc.weight === 0 ? `skew ${r(skew)}s (FAULT)` : `3×${advertInt}s + skew ${r(skew)}s`}`,
      };
    }
  }
}

function detectionFormula(hc: HealthCheck, detect: number): string {
  const r = (n: number) => Math.round(n * 1000) / 1000;
  if (hc.mode === 'process') return 'process event 0s';
  if (aliveDetectionSeconds(hc) <= httpDetectionSeconds(hc))
    return `alive check every ${hc.aliveInterval}s: ${r(detect)}s`;
  if (hc.interval < 1) return `probes every ${hc.interval}s: ${r(detect)}s`;
  return `interval ${hc.interval}s × fall ${hc.fall}`;
}

/** Slack on top of convergence for process start-up and a loaded host. */
const CONVERGENCE_MARGIN_MS = 8000;

/**
 * How long after keepalived (re)starts on a node its VIPs may take to settle: a second to
 * start, vrrp_startup_delay, the health check's rise to become healthy, preempt_delay, then the master-down
 * interval (3 × advert_int + skew) of the slowest VIP. Deploy's health wait and its
 * post-deploy holder check both wait this long at most.
 */
export function convergenceMs(cluster: Pick<Cluster, 'healthCheck' | 'keepalived'>, vips: readonly Vip[]): number {
  const hc = cluster.healthCheck;
  // vrrp_startup_delay holds every VRRP instance back after a (re)start.
  const startup = cluster.keepalived?.startupDelay ?? 0;
  const rise = hc.mode === 'script' || hc.mode === 'both' ? hc.rise * checkRuns(hc).interval : 0;
  const slowest = Math.max(
    0,
    ...vips.map((v) => {
      const lowest = Math.min(...v.nodes.map((n) => n.priority));
      return 3 * v.advertInt + skewTime(lowest, v.advertInt) + (v.preemptDelay ?? 0);
    }),
  );
  return Math.round((1 + startup + rise + slowest) * 1000) + CONVERGENCE_MARGIN_MS;
}

/**
 * Whether a weighted track_interface moves the VIP when the link dies on the master: a negative
 * weight must take the master below the best backup; a positive one must lift the best backup
 * (whose link is up) above the master (whose link is down). Weight 0 means FAULT, which always does.
 */
export function trackVerdict(
  link: string,
  weight: number,
  master: string,
  priorities: Map<string, number>,
): FailoverVerdict {
  const pm = priorities.get(master);
  const backups = [...priorities].filter(([lb]) => lb !== master);
  if (pm === undefined || backups.length === 0) return { ok: true, explanation: 'no backup' };
  if (weight === 0) return { ok: true, explanation: `${link} down puts ${master} in FAULT and releases the VIP` };
  const [best, bestPrio] = backups.reduce((a, b) => (b[1] > a[1] ? b : a));
  if (weight < 0) {
    const down = Math.max(1, pm + weight);
    if (down < bestPrio) return { ok: true, explanation: `${master} falls to ${down}, below ${best}'s ${bestPrio}` };
    return {
      ok: false,
      explanation: `${link} down subtracts ${-weight} from ${master}'s priority ${pm}, leaving ${down}, which is not below ${best}'s ${bestPrio}`,
      fix: `leave weight out (FAULT when the link is down) or use a weight below ${bestPrio - pm} (e.g. ${bestPrio - pm - 10})`,
    };
  }
  const lifted = Math.min(254, bestPrio + weight);
  if (lifted > pm) return { ok: true, explanation: `${best} (link up) rises to ${lifted}, above ${master}'s ${pm}` };
  return {
    ok: false,
    explanation: `${best} (link up) gains +${weight} (${bestPrio} → ${lifted}) but ${master} keeps ${pm} with ${link} down, so it stays master`,
    fix: `leave weight out (FAULT when the link is down), or use a weight above ${pm - bestPrio}, or a negative weight below ${bestPrio - pm}`,
  };
}

/**
 * Seconds VRRP promises for the VIP to move after a tracked link of the master goes down, for
 * the given new master. FAULT: after the down delay the master sends priority 0 and the backup
 * takes over after its skew. A weight: the master keeps advertising, at a lower priority, which
 * a preempting backup discards (RFC 3768 6.4.2), so it takes over when its master-down timer,
 * last reset by an advert sent just before the link died, runs out.
 */
export function promisedLinkDownSeconds(
  track: { weight: number; downDelay?: number },
  advertInt: number,
  backupPriority: number,
): { seconds: number; formula: string } {
  const skew = skewTime(backupPriority, advertInt);
  const delay = track.downDelay ?? 0;
  const r = (n: number) => Math.round(n * 1000) / 1000;
  const lead = delay > 0 ? `down_delay ${delay}s + ` : '';
  if (track.weight === 0) return { seconds: r(delay + skew), formula: `${lead}skew ${r(skew)}s (FAULT)` };
  return { seconds: r(delay + 3 * advertInt + skew), formula: `${lead}3×${advertInt}s + skew ${r(skew)}s` };
}
