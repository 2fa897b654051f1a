/**
 * VRRP state as keepalived itself holds it. keepalived dumps its internal data to
 * /tmp/keepalived.data on its DATA signal; only the lines status needs leave the host (the
 * dump also contains auth_pass). The notify script's /run/hactl/vrrp files are the fallback:
 * keepalived runs notify scripts concurrently, so after two quick transitions the file can
 * name the older state.
 */

export interface InstanceState {
  state: string;
  priority?: number;
  /** Unix seconds of the last transition. */
  since?: number;
}

/** Shell snippet (POSIX sh, root): prints the filtered dump, or nothing when keepalived is not running. */
export const KEEPALIVED_STATE_SCRIPT = [
  'echo @@kadata',
  'p=$(cat /run/keepalived.pid 2>/dev/null) || p=$(pidof -s keepalived 2>/dev/null)',
  'if [ -n "$p" ] && kill -0 "$p" 2>/dev/null && s=$(keepalived --signum=DATA 2>/dev/null); then',
  '  rm -f /tmp/keepalived.data; kill -s "$s" "$p"',
  // Wait (bounded: 1 s) until the dump exists and has stopped growing.
  '  i=0; a=-1; b=0; while [ $i -lt 50 ]; do b=$(stat -c %s /tmp/keepalived.data 2>/dev/null || echo 0); [ "$b" -gt 0 ] && [ "$b" = "$a" ] && break; a=$b; sleep 0.02; i=$((i+1)); done',
  "  grep -E '^------<|^ VRRP Instance = |^   (State|Effective priority|Last transition) = ' /tmp/keepalived.data 2>/dev/null",
  'fi',
  'echo @@kaend',
].join('\n');

/** The @@kadata section of a script's output (see KEEPALIVED_STATE_SCRIPT), parsed. */
export function parseKeepalivedState(output: string): Map<string, InstanceState> {
  const out = new Map<string, InstanceState>();
  const start = output.indexOf('@@kadata\n');
  if (start < 0) return out;
  const end = output.indexOf('@@kaend', start);
  let current: InstanceState | undefined;
  for (const line of output.slice(start + 9, end < 0 ? undefined : end).split('\n')) {
    const inst = line.match(/^ VRRP Instance = (\S+)/);
    if (inst) {
      current = { state: 'UNKNOWN' };
      out.set(inst[1], current);
      continue;
    }
    if (line.startsWith('------<')) {
      current = undefined;
      continue;
    }
    const kv = line.match(/^ {3}(State|Effective priority|Last transition) = (\S+)/);
    if (!current || !kv) continue;
    if (kv[1] === 'State' && current.state === 'UNKNOWN') current.state = kv[2];
    else if (kv[1] === 'Effective priority' && current.priority === undefined) current.priority = Number(kv[2]);
    else if (kv[1] === 'Last transition' && current.since === undefined) current.since = Math.floor(Number(kv[2]));
  }
  return out;
}
