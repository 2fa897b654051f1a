/**
 * What failover-test may have left on a load balancer: its fault records (and whether each
 * one's watchdog still runs), iptables/ip6tables rules carrying its comment, and keepalived or
 * nginx processes stopped by a signal. Read by verify and status in their one exec, and by
 * `failover-test --undo` before and after undoing.
 */
import { HOST_PATHS } from '../paths.js';
import { cmd, hostPath, raw, script, type Shell } from '../script.js';
import { section, type Section } from '../section.js';

/** Marks hactl's firewall rules, so an undo can never delete an operator's own. */
export const RULE_COMMENT = 'hactl-failover-test';
/** The marker in a watchdog's command line, for `ps` and for stopping only a real watchdog. */
export const WATCHDOG_NAME = 'hactl-fault-watchdog';

/**
 * Deletes every rule carrying hactl's comment (filter table, IPv4 and IPv6); exits 1 when a
 * delete fails. The rules are read back from iptables-save and handed to xargs, which unquotes
 * without expanding, so a rule's text is never evaluated by a shell.
 */
/**
 * hactl's ARP rules (isolate) live in an arptables chain of this name, so the sweep removes
 * exactly them. arptables ships with iptables on Debian 11+ (arptables-nft).
 */
export const ARP_CHAIN = RULE_COMMENT;

export const SWEEP_RULES = [
  'for hf_t in iptables ip6tables; do',
  '  command -v "$hf_t-save" >/dev/null 2>&1 || continue',
  `  "$hf_t-save" -t filter 2>/dev/null | sed -n 's/^-A \\(.*--comment "\\{0,1\\}${RULE_COMMENT}"\\{0,1\\}\\( .*\\)\\{0,1\\}\\)$/-D \\1/p' | xargs -r -L 1 "$hf_t" -w || exit 1`,
  'done',
  `if command -v arptables >/dev/null 2>&1 && arptables -L ${ARP_CHAIN} >/dev/null 2>&1; then`,
  `  for hf_c in INPUT OUTPUT; do while arptables -D "$hf_c" -j ${ARP_CHAIN} 2>/dev/null; do :; done; done`,
  `  arptables -F ${ARP_CHAIN} && arptables -X ${ARP_CHAIN} || exit 1`,
  'fi',
].join('\n');

/**
 * The operator's own SSH connection, found from this shell's ancestors: the login shell sshd
 * started has SSH_CONNECTION ("client port server port"), which sudo's env_reset hides from
 * this shell itself. Sets hf_sc (empty when there is none) and hf_p, the process it was found
 * in (that login shell; its parent is the connection's sshd process).
 */
export const FIND_SSH_FLOW = [
  'hf_sc=; hf_p=$$',
  'while [ -n "$hf_p" ] && [ "$hf_p" -gt 1 ]; do',
  "  hf_sc=$(tr '\\0' '\\n' < /proc/$hf_p/environ 2>/dev/null | sed -n 's/^SSH_CONNECTION=//p')",
  '  [ -n "$hf_sc" ] && break',
  "  hf_p=$(sed 's/.*) //' /proc/$hf_p/stat 2>/dev/null | cut -d' ' -f2)",
  'done',
].join('\n');

/** `pid starttime` of a process, from /proc (starttime tells a reused pid apart). */
export const procStart = (pid: string) => `"${pid} $(sed 's/.*) //' /proc/${pid}/stat 2>/dev/null | cut -d' ' -f20)"`;

export type FaultRecordStatus = 'armed' | 'firing' | 'failed' | 'undoing' | 'cancel';

export interface FaultRecord {
  id: string;
  status: FaultRecordStatus;
  kind: string;
  describe: string;
  undoSummary: string;
  /** user@machine that started it. */
  by: string;
  /** Host clock, Unix seconds. */
  started?: number;
  deadline?: number;
  pid?: number;
  /** The watchdog process is still there (it will undo at the deadline). */
  watchdogAlive: boolean;
  /** The SSH connection of the hactl that started it is still open: the test is running, not interrupted. */
  sessionAlive: boolean;
}

export interface FaultLeftovers {
  records: FaultRecord[];
  /** iptables-save lines (IPv4 then IPv6) carrying hactl's comment. */
  rules: string[];
  /** keepalived/nginx processes in state T (SIGSTOP). */
  frozen: { program: string; pid: number }[];
  /** Host clock when read, Unix seconds. */
  now: number;
}

const STATUS_EXT: Record<string, FaultRecordStatus> = {
  state: 'armed',
  firing: 'firing',
  failed: 'failed',
  undoing: 'undoing',
  cancel: 'cancel',
};

export function leftoversScript(): Shell {
  const d = hostPath(HOST_PATHS.faultsDir);
  return script(
    cmd`for lf_f in ${d}/*.state ${d}/*.firing ${d}/*.failed ${d}/*.undoing; do`,
    raw('  [ -f "$lf_f" ] || continue'),
    raw('  echo "record ${lf_f##*/}"; sed \'s/^/  /\' "$lf_f"'),
    raw('  lf_p=$(sed -n \'s/^pid //p\' "$lf_f")'),
    // The real /proc even in a sandbox: the watchdog is a real process there too.
    cmd`  if [ -n "$lf_p" ] && grep -q ${WATCHDOG_NAME} /proc/"$lf_p"/cmdline 2>/dev/null; then echo '  alive yes'; fi`,
    raw('  lf_s=$(sed -n \'s/^session //p\' "$lf_f"); lf_sp=${lf_s%% *}'),
    raw(`  if [ -n "$lf_sp" ] && [ ${procStart('$lf_sp')} = "$lf_s" ]; then echo '  session-alive yes'; fi`),
    raw('done'),
    raw('echo "now $(date +%s)"'),
    cmd`iptables-save 2>/dev/null | grep -F -e ${RULE_COMMENT} | sed 's/^/rule /'`,
    cmd`ip6tables-save 2>/dev/null | grep -F -e ${RULE_COMMENT} | sed 's/^/rule /'`,
    cmd`command -v arptables >/dev/null 2>&1 && arptables -L ${ARP_CHAIN} >/dev/null 2>&1 && echo ${`rule arptables chain ${ARP_CHAIN} (ARP for the VIPs dropped)`}`,
    raw('for lf_n in keepalived nginx; do for lf_p in $(pidof "$lf_n" 2>/dev/null); do'),
    cmd`  [ "$(sed 's/.*) //' ${hostPath('/proc')}/"$lf_p"/stat 2>/dev/null | cut -c1)" = T ] && echo "frozen $lf_n $lf_p"`,
    raw('done; done; true'),
  );
}

function recordFrom(file: string, body: string[]): FaultRecord {
  const dot = file.lastIndexOf('.');
  const kv = new Map<string, string>();
  for (const l of body) {
    const sp = l.indexOf(' ');
    if (sp > 0) kv.set(l.slice(0, sp), l.slice(sp + 1));
  }
  const num = (k: string) => (kv.has(k) && Number.isFinite(Number(kv.get(k))) ? Number(kv.get(k)) : undefined);
  const started = num('started');
  const deadline = num('deadline');
  const pid = num('pid');
  return {
    id: kv.get('id') ?? file.slice(0, dot),
    status: STATUS_EXT[file.slice(dot + 1)] ?? 'armed',
    kind: kv.get('kind') ?? 'unknown',
    describe: kv.get('describe') ?? '',
    undoSummary: kv.get('undo-summary') ?? '',
    by: kv.get('by') ?? 'unknown',
    ...(started !== undefined ? { started } : {}),
    ...(deadline !== undefined ? { deadline } : {}),
    ...(pid !== undefined ? { pid } : {}),
    watchdogAlive: kv.get('alive') === 'yes',
    sessionAlive: kv.get('session-alive') === 'yes',
  };
}

export function parseLeftovers(lines: string[]): FaultLeftovers {
  const out: FaultLeftovers = { records: [], rules: [], frozen: [], now: 0 };
  let current: { file: string; body: string[] } | undefined;
  const flush = () => {
    if (current) out.records.push(recordFrom(current.file, current.body));
    current = undefined;
  };
  for (const line of lines) {
    if (line.startsWith('  ') && current) {
      current.body.push(line.slice(2));
      continue;
    }
    flush();
    const [tag, ...rest] = line.split(' ');
    if (tag === 'record' && rest[0]) current = { file: rest[0], body: [] };
    else if (tag === 'now') out.now = Number(rest[0]) || 0;
    else if (tag === 'rule') out.rules.push(rest.join(' '));
    else if (tag === 'frozen' && rest.length === 2) out.frozen.push({ program: rest[0], pid: Number(rest[1]) });
  }
  flush();
  return out;
}

/** The leftovers section; `name` lets `--undo` read them twice (before and after) in one exec. */
export function leftoversSection(name = 'hactl-faults'): Section<FaultLeftovers> {
  return section(name, leftoversScript(), parseLeftovers);
}

export const isEmpty = (l: FaultLeftovers) => l.records.length === 0 && l.rules.length === 0 && l.frozen.length === 0;

/**
 * `failover-test --undo` on one host: every record not being undone by its watchdog right now
 * is claimed (renamed to `.undoing`), its watchdog stopped, its undo run (removed on success,
 * kept as `.failed` with the error otherwise); records a watchdog is undoing are waited for
 * (up to 15 s); then every rule with hactl's comment left without a record is deleted.
 * Prints `undone ID`, `failed ID WHY`, `waited ID`, `sweep ok|failed`.
 */
export function undoFaultsScript(): Shell {
  const d = hostPath(HOST_PATHS.faultsDir);
  return script(
    cmd`uf_d=${d}`,
    raw('for uf_f in "$uf_d"/*.state "$uf_d"/*.failed; do'),
    raw('  [ -f "$uf_f" ] || continue'),
    raw('  uf_id=${uf_f##*/}; uf_id=${uf_id%.*}; uf_u="$uf_d/$uf_id"'),
    raw('  mv "$uf_f" "$uf_u.undoing" 2>/dev/null || continue'),
    raw('  uf_p=$(sed -n \'s/^pid //p\' "$uf_u.undoing")'),
    cmd`  [ -n "$uf_p" ] && grep -q ${WATCHDOG_NAME} /proc/"$uf_p"/cmdline 2>/dev/null && kill -TERM -"$uf_p" 2>/dev/null`,
    raw('  if R="$R" sh "$uf_u.undo" >/dev/null 2>"$uf_u.err"; then'),
    raw('    rm -f "$uf_u.undoing" "$uf_u.undo" "$uf_u.log" "$uf_u.err"; echo "undone $uf_id"'),
    raw('  else'),
    raw(
      '    echo "failed $uf_id $(head -c 300 "$uf_u.err" 2>/dev/null | tr \'\\n\' \' \')"; mv "$uf_u.undoing" "$uf_u.failed"',
    ),
    raw('  fi'),
    raw('done'),
    raw('for uf_f in "$uf_d"/*.firing; do'),
    raw('  [ -f "$uf_f" ] || continue'),
    raw('  uf_i=0; while [ -e "$uf_f" ] && [ "$uf_i" -lt 150 ]; do sleep 0.1; uf_i=$((uf_i+1)); done'),
    raw('  uf_id=${uf_f##*/}; echo "waited ${uf_id%.*}"'),
    raw('done'),
    raw(`if ( ${SWEEP_RULES}
); then echo 'sweep ok'; else echo 'sweep failed'; fi`),
  );
}

export interface UndoActions {
  undone: string[];
  failed: { id: string; why: string }[];
  waited: string[];
  sweepOk: boolean;
}

export function parseUndo(lines: string[]): UndoActions {
  const out: UndoActions = { undone: [], failed: [], waited: [], sweepOk: false };
  for (const line of lines) {
    const [tag, id, ...rest] = line.split(' ');
    if (tag === 'undone' && id) out.undone.push(id);
    else if (tag === 'failed' && id) out.failed.push({ id, why: rest.join(' ').trim() });
    else if (tag === 'waited' && id) out.waited.push(id);
    else if (tag === 'sweep') out.sweepOk = id === 'ok';
  }
  return out;
}

export const undoFaultsSection: Section<UndoActions> = section('hactl-undo', undoFaultsScript(), parseUndo);
