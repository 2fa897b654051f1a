/**
 * Waits on the host, bounded, until it is healthy for the configuration just applied: nginx
 * answers its status endpoint as this load balancer, keepalived runs, and each VIP this host
 * must master is MASTER. The state is read in the order every other part of hactl uses
 * (verdicts.ts vrrpState): keepalived's own data dump first, the notify script's file when
 * keepalived cannot dump. One round trip where polling from the operator machine would take
 * one per interval (VRRP takes 3 × advert_int to elect). The verdict stays with the caller:
 * this section only waits and says whether it saw the host ready.
 */
import { HOST_PATHS } from '../paths.js';
import { cmd, hostPath, raw, script } from '../script.js';
import { section, type Section } from '../section.js';

export interface HealthWaitRequest {
  statusPort: number;
  lbName: string;
  /** Instances that must be MASTER here (the preempting master's VIPs). */
  mustMaster: readonly string[];
  waitSeconds: number;
}

export interface HealthWait {
  ready: boolean;
  /** Tenths of a second waited. */
  ticks: number;
}

const DATA = hostPath(HOST_PATHS.keepalivedData);

/** hw_dump: a fresh keepalived data dump (bounded wait); hw_state NAME: its state, else the notify file's. */
const STATE_FUNCTIONS = script(
  raw('hw_dump() {'),
  cmd`  hw_p=; [ -r ${hostPath(HOST_PATHS.keepalivedPid)} ] && read -r hw_p < ${hostPath(HOST_PATHS.keepalivedPid)}`,
  cmd`  rm -f ${DATA}; [ -n "$hw_p" ] && hw_s=$(keepalived --signum=DATA 2>/dev/null) && kill -s "$hw_s" "$hw_p" 2>/dev/null || return 0`,
  cmd`  hw_j=0; while [ ! -s ${DATA} ] && [ $hw_j -lt 20 ]; do sleep 0.02; hw_j=$((hw_j+1)); done`,
  raw('}'),
  raw('hw_state() {'),
  cmd`  if [ -s ${DATA} ]; then hw_in=0; while IFS= read -r hw_l; do case "$hw_l" in`,
  raw('    " VRRP Instance = $1") hw_in=1;; " VRRP Instance = "*) hw_in=0;;'),
  raw('    "   State = "*) if [ $hw_in = 1 ]; then echo "${hw_l#   State = }"; return; fi;;'),
  cmd`  esac; done < ${DATA}; fi`,
  cmd`  hw_f=${hostPath(HOST_PATHS.vrrpStateDir)}/"$1"; if [ -r "$hw_f" ]; then read -r hw_x _ < "$hw_f"; echo "$hw_x"; fi`,
  raw('}'),
);

export function healthWaitSection(req: HealthWaitRequest): Section<HealthWait> {
  const ticks = Math.max(0, Math.ceil(req.waitSeconds * 10));
  const status = `http://127.0.0.1:${req.statusPort}/hactl-health`;
  const masters = req.mustMaster.length
    ? script(
        raw('hw_masters() {'),
        raw('  hw_dump'),
        cmd`  for hw_n in ${req.mustMaster}; do [ "$(hw_state "$hw_n")" = MASTER ] || return 1; done`,
        raw('}'),
      )
    : raw('hw_masters() { :; }');
  const body = script(
    STATE_FUNCTIONS,
    masters,
    raw('hw_i=0; hw_ok=0'),
    cmd`while [ $hw_i -lt ${ticks} ]; do`,
    cmd`  if curl -fsS -m 1 ${status} 2>/dev/null | grep -qx ${`ok ${req.lbName}`} && grep -qx keepalived ${hostPath('/proc')}/[0-9]*/comm 2>/dev/null && hw_masters; then hw_ok=1; break; fi`,
    raw('  hw_i=$((hw_i+1)); sleep 0.1'),
    raw('done'),
    raw('echo "ready $hw_ok $hw_i"'),
  );
  return section('health-wait', body, (lines) => {
    const m = /^ready (\d) (\d+)$/.exec(lines.find((l) => l.startsWith('ready ')) ?? '');
    return { ready: m?.[1] === '1', ticks: Number(m?.[2] ?? 0) };
  });
}
