/**
 * The fault watchdog: before a fault goes in, a process on the target host, detached from the
 * SSH session (setsid, its own stdio, HUP ignored), that runs the fault's undo after the
 * maximum fault time, so a fault outlives neither a dead laptop nor a cut connection by more
 * than that. Its record, `<faultsDir>/<id>.state` (key value lines: id, kind, started,
 * deadline, by, describe, undo-summary, pid), says what it will undo, when and for whom;
 * `<id>.undo` is the undo itself and `<id>.log` the watchdog's output.
 *
 * Exactly one party runs the final undo: the watchdog, the normal path or `--undo` each claim
 * the record with a rename (`.state` → `.firing`, `.cancel` or `.undoing`), which only one can
 * win. A watchdog whose undo failed three times leaves `<id>.failed` and its log.
 */
import { HOST_PATHS } from '../remote/paths.js';
import { cmd, hostPath, raw, script, type Shell } from '../remote/script.js';
import { FIND_SSH_FLOW, procStart, WATCHDOG_NAME } from '../remote/sections/faults.js';
import type { Fault } from './faults.js';

export { WATCHDOG_NAME };

/** Exit codes of the arm script (the fault's own inject exits with its code after these). */
export const ARM_EXIT = {
  /** The faults directory could not be made: nothing was injected. */
  noDir: 20,
  /** The watchdog did not record itself within 2 s: nothing was injected. */
  noWatchdog: 21,
} as const;

/** Run before any fault: the watchdog needs setsid (util-linux) to leave the SSH session. */
export const WATCHDOG_PRECHECK =
  "command -v setsid >/dev/null 2>&1 || { echo 'setsid is not installed on this host (util-linux): the fault watchdog, which undoes a fault when hactl cannot, needs it' >&2; exit 3; }";

/** 3 × the bound + 10 s, at most 120 s: long enough for the test, short enough for a site. */
export function maxFaultSeconds(boundMs: number): number {
  return Math.min(120, Math.ceil((3 * boundMs) / 1000 + 10));
}

export interface WatchdogSpec {
  /** Fault id: letters, digits and dashes only (it names files). */
  id: string;
  fault: Fault;
  /** The restored check run after the undo (the undo counts as done only when it passes). */
  restored: string;
  maxSeconds: number;
  /** Who started the fault: user@machine. */
  by: string;
}

const dir = () => hostPath(HOST_PATHS.faultsDir);

/**
 * The watchdog itself, run by `setsid sh -c BODY hactl-fault-watchdog ID ROOT SECONDS`. It
 * records its pid (which makes the record visible), sleeps, claims the record and undoes.
 */
const WATCHDOG_BODY = [
  'id=$1 R=$2 secs=$3',
  `fd="$R"${HOST_PATHS.faultsDir}`,
  "trap '' HUP INT PIPE",
  'printf \'pid %s\\n\' "$$" >> "$fd/$id.state.new" && mv "$fd/$id.state.new" "$fd/$id.state" || exit 1',
  'sleep "$secs"',
  'mv "$fd/$id.state" "$fd/$id.firing" 2>/dev/null || exit 0',
  'echo "watchdog: max fault time reached at $(date +%s), undoing"',
  'n=0',
  'while [ "$n" -lt 3 ]; do',
  '  n=$((n+1))',
  '  if R="$R" sh "$fd/$id.undo"; then rm -f "$fd/$id.firing" "$fd/$id.undo" "$fd/$id.log"; exit 0; fi',
  '  echo "watchdog: undo attempt $n failed"; sleep 2',
  'done',
  'mv "$fd/$id.firing" "$fd/$id.failed"',
].join('\n');

/** The undo file's text: the fault's undo, then the check that it took. */
function undoText(spec: WatchdogSpec): string {
  return `( ${spec.fault.undo}\n) && ( ${spec.restored}\n)\n`;
}

/**
 * Arms the watchdog, waits until it has recorded itself, then (only then) injects. One exec:
 * killing hactl right after this returns can no longer leave the fault without its undo.
 */
export function armAndInject(spec: WatchdogSpec): Shell {
  const f = (ext: string) => cmd`"$hw_d"/${`${spec.id}.${ext}`}`;
  const record = [
    `id ${spec.id}`,
    `kind ${spec.fault.kind}`,
    `describe ${spec.fault.describe}`,
    `undo-summary ${spec.fault.undoSummary}`,
    `by ${spec.by}`,
  ];
  return script(
    cmd`hw_d=${dir()}`,
    cmd`mkdir -p "$hw_d" && chmod 0700 "$hw_d" || exit ${ARM_EXIT.noDir}`,
    raw('hw_now=$(date +%s)'),
    // The connection's sshd process, so a reader can tell a running test from an interrupted one.
    raw(FIND_SSH_FLOW),
    raw(
      `hw_s=; [ -n "$hf_sc" ] && hw_sp=$(sed 's/.*) //' /proc/$hf_p/stat 2>/dev/null | cut -d' ' -f2) && hw_s=${procStart('$hw_sp')}`,
    ),
    cmd`printf '%s\\n' ${undoText(spec)} > ${f('undo')} || exit ${ARM_EXIT.noDir}`,
    cmd`{ printf '%s\\n' ${record}; echo "started $hw_now"; echo "deadline $((hw_now + ${spec.maxSeconds}))"; [ -n "$hw_s" ] && echo "session $hw_s"; } > ${f('state.new')} || exit ${ARM_EXIT.noDir}`,
    cmd`setsid sh -c ${WATCHDOG_BODY} ${WATCHDOG_NAME} ${spec.id} "$R" ${spec.maxSeconds} </dev/null >> ${f('log')} 2>&1 &`,
    cmd`hw_i=0; while [ ! -f ${f('state')} ] && [ "$hw_i" -lt 100 ]; do sleep 0.02; hw_i=$((hw_i+1)); done`,
    cmd`[ -f ${f('state')} ] || { echo 'the fault watchdog did not start: nothing was injected' >&2; rm -f ${f('undo')} ${f('state.new')} ${f('log')}; exit ${ARM_EXIT.noWatchdog}; }`,
    raw(spec.fault.inject),
  );
}

/**
 * Stops the watchdog of the fault `id` (its whole process group: the shell and its sleep, and
 * only when the pid still runs a watchdog) and removes its record. Prints `watchdog cancelled`,
 * or `watchdog fired` when it had claimed the record first (then waits, up to 15 s, for its
 * undo to finish).
 */
export function cancelWatchdog(id: string): Shell {
  const f = (ext: string) => cmd`"$hw_d"/${`${id}.${ext}`}`;
  return script(
    cmd`hw_d=${dir()}`,
    cmd`if mv ${f('state')} ${f('cancel')} 2>/dev/null; then`,
    cmd`  hw_p=$(sed -n 's/^pid //p' ${f('cancel')})`,
    cmd`  [ -n "$hw_p" ] && grep -q ${WATCHDOG_NAME} /proc/"$hw_p"/cmdline 2>/dev/null && kill -TERM -"$hw_p" 2>/dev/null`,
    cmd`  rm -f ${f('cancel')} ${f('undo')} ${f('log')}; echo 'watchdog cancelled'`,
    raw('else'),
    cmd`  hw_i=0; while [ -e ${f('firing')} ] && [ "$hw_i" -lt 150 ]; do sleep 0.1; hw_i=$((hw_i+1)); done`,
    raw("  echo 'watchdog fired'"),
    raw('fi'),
  );
}

/** The normal path's undo: the fault's undo and its check, and only when both passed, the watchdog cancelled. */
export function undoAndCancel(spec: Pick<WatchdogSpec, 'id' | 'fault' | 'restored'>): Shell {
  return script(raw(`( ${spec.fault.undo}\n) && ( ${spec.restored}\n) || exit $?`), cancelWatchdog(spec.id));
}
