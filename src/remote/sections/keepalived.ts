/**
 * VRRP state and counters as keepalived itself holds them: on its DATA signal it dumps its
 * internal data to /tmp/keepalived.data, on STATS its per-instance counters to
 * /tmp/keepalived.stats. Only the lines hactl needs leave the host (the data dump also holds
 * auth_pass). keepalived's pid comes from its pid file; the signal numbers from keepalived
 * itself (`--signum`), since they differ between builds.
 */
import { HOST_PATHS } from '../paths.js';
import { cmd, hostPath, raw, script, type Shell } from '../script.js';
import { section, type Section } from '../section.js';

export interface InstanceState {
  state: string;
  priority?: number;
  /** Unix seconds of the last transition. */
  since?: number;
}

export interface AdvertStats {
  received: number;
  sent: number;
  authErrors: number;
  intervalErrors: number;
  /** Transitions to MASTER and away from it since keepalived started: its own count of state changes. */
  becameMaster: number;
  releasedMaster: number;
}

/**
 * Signals keepalived and waits (bounded: 1 s) until the dump exists and has stopped growing;
 * prints `grep`'s selection of it, or nothing when keepalived is not running.
 */
function dump(signal: 'DATA' | 'STATS', file: string, select: Shell): Shell {
  const f = hostPath(file);
  return script(
    cmd`ka_p=; [ -r ${hostPath(HOST_PATHS.keepalivedPid)} ] && read -r ka_p < ${hostPath(HOST_PATHS.keepalivedPid)}`,
    cmd`if [ -n "$ka_p" ] && kill -0 "$ka_p" 2>/dev/null && ka_s=$(keepalived ${`--signum=${signal}`} 2>/dev/null); then`,
    cmd`  rm -f ${f}; kill -s "$ka_s" "$ka_p"`,
    cmd`  ka_i=0; ka_a=-1; while [ $ka_i -lt 50 ]; do ka_b=$(stat -c %s ${f} 2>/dev/null || echo 0); [ "$ka_b" -gt 0 ] && [ "$ka_b" = "$ka_a" ] && break; ka_a=$ka_b; sleep 0.02; ka_i=$((ka_i+1)); done`,
    cmd`  ${select} ${f} 2>/dev/null`,
    raw('fi'),
  );
}

export const keepalivedDataSection: Section<Map<string, InstanceState>> = section(
  'keepalived-data',
  dump(
    'DATA',
    HOST_PATHS.keepalivedData,
    raw("grep -E '^------<|^ VRRP Instance = |^   (State|Effective priority|Last transition) = '"),
  ),
  parseKeepalivedData,
);

export function parseKeepalivedData(lines: string[]): Map<string, InstanceState> {
  const out = new Map<string, InstanceState>();
  let current: InstanceState | undefined;
  for (const line of lines) {
    const inst = /^ VRRP Instance = (\S+)/.exec(line);
    if (inst) {
      current = { state: 'UNKNOWN' };
      out.set(inst[1], current);
      continue;
    }
    if (line.startsWith('------<')) {
      current = undefined;
      continue;
    }
    const kv = /^ {3}(State|Effective priority|Last transition) = (\S+)/.exec(line);
    if (!current || !kv) continue;
    if (kv[1] === 'State' && current.state === 'UNKNOWN') current.state = kv[2];
    else if (kv[1] === 'Effective priority' && current.priority === undefined) current.priority = Number(kv[2]);
    else if (kv[1] === 'Last transition' && current.since === undefined) current.since = Math.floor(Number(kv[2]));
  }
  return out;
}

/** keepalived's instances and its vrrp_scripts' results (GOOD, BAD, INIT…), from one dump. */
export interface KeepalivedView {
  instances: Map<string, InstanceState>;
  scripts: Map<string, string>;
}

/**
 * keepalivedDataSection plus each vrrp_script's status, for `hactl status`: which of a node's
 * checks holds it in FAULT (or lowers its priority) is keepalived's to say, not a guess.
 */
export const keepalivedViewSection: Section<KeepalivedView> = section(
  'keepalived-view',
  dump(
    'DATA',
    HOST_PATHS.keepalivedData,
    raw(
      "grep -E '^------<|^ VRRP Instance = |^ VRRP Script = |^   (State|Status|Effective priority|Last transition) = '",
    ),
  ),
  (lines) => ({ instances: parseKeepalivedData(lines), scripts: parseKeepalivedScripts(lines) }),
);

/** ` VRRP Script = <name>` blocks of the data dump: the first `Status = ` of each. */
export function parseKeepalivedScripts(lines: string[]): Map<string, string> {
  const out = new Map<string, string>();
  let current: string | undefined;
  for (const line of lines) {
    const s = /^ VRRP Script = (\S+)/.exec(line);
    if (s) current = s[1];
    else if (line.startsWith('------<') || line.startsWith(' VRRP Instance = ')) current = undefined;
    const st = /^ {3}Status = (\S+)/.exec(line);
    if (current && st && !out.has(current)) out.set(current, st[1]);
  }
  return out;
}

export const keepalivedStatsSection: Section<Map<string, AdvertStats>> = section(
  'keepalived-stats',
  dump('STATS', HOST_PATHS.keepalivedStats, raw('cat')),
  parseKeepalivedStats,
);

export function parseKeepalivedStats(lines: string[]): Map<string, AdvertStats> {
  const out = new Map<string, AdvertStats>();
  for (const chunk of lines
    .join('\n')
    .split(/^VRRP Instance: /m)
    .slice(1)) {
    const name = chunk.split('\n')[0].trim();
    const num = (re: RegExp) => Number(chunk.match(re)?.[1] ?? 0);
    out.set(name, {
      received: num(/Advertisements:\s*\n\s*Received:\s*(\d+)/),
      sent: num(/Advertisements:\s*\n\s*Received:\s*\d+\s*\n\s*Sent:\s*(\d+)/),
      authErrors: num(/Type Mismatch:\s*(\d+)/) + num(/Failure:\s*(\d+)/),
      intervalErrors: num(/Advertisement Interval:\s*(\d+)/),
      becameMaster: num(/Became master:\s*(\d+)/),
      releasedMaster: num(/Released master:\s*(\d+)/),
    });
  }
  return out;
}

/** Firewall rules that mention VRRP (protocol 112, vrrp, 224.0.0.18), read only when a VIP has split. */
export const firewallSection: Section<string[]> = section(
  'firewall',
  raw(
    "{ iptables-save 2>/dev/null; nft list ruleset 2>/dev/null; } | grep -Ei -- '-p (112|vrrp)|protocol (112|vrrp)|ip protocol vrrp|224\\.0\\.0\\.18|vrrp' || true",
  ),
  (lines) => lines.filter((l) => l.trim() !== ''),
);
