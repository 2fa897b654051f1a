/**
 * The apply transaction for one host, built from named pieces joined in a fixed order:
 *
 *   prologue → restore() → packages → sysctl → stage → swap → validate → record release →
 *   keep backups → reload → start → end marker
 *
 * Nothing on the host changes before `swap`; from `swap` to `validate` every failure restores
 * the previous files byte for byte before exiting; services are touched only after the new
 * files validated. The script is sent over stdin to `bootstrapCommand`, which saves it, runs
 * it only when it arrived whole (its last line carries a token), and ignores hangups, so a
 * dropped connection leaves the host on its old or its new configuration, never half of one.
 */
import { quote } from '../shell/quote.js';
import { installCommand } from '../shell/packages.js';
import { serviceCommand } from '../shell/service.js';
import { nginxArgv, nginxControl } from '../shell/nginx.js';
import type { NginxLayout } from '../inventory/model.js';
import { HOST_PATHS, KEEP_BACKUPS } from './paths.js';
import { cmd, hostPath, raw, render, script, type Shell } from './script.js';
import type { PackageManager, ServiceManager } from './sections/host.js';

/** A release id is written into paths: only what newReleaseId makes (checked again here, where it reaches the shell). */
const SAFE_ID = /^[0-9A-Za-z-]+$/;

/** Exit codes of the transaction, and what each promises about the host's state. */
export const APPLY_EXIT = {
  /** The new configuration is in place; services were reloaded and started as planned. */
  ok: 0,
  /** keepalived -t or nginx -t refused it; the previous files are restored byte for byte; nothing was reloaded. */
  validationFailed: 10,
  /** A write or validation failed AND restoring failed: files may be half-updated; the backups are kept on the host. */
  restoreFailed: 11,
  /** A file could not be staged, written or removed; the previous files are restored; nothing was reloaded. */
  writeFailed: 12,
  /** Installing packages failed; no file was changed (apt may have installed some of them). */
  packagesFailed: 20,
  /** Setting a sysctl failed; packages may be installed; no file was changed. */
  sysctlFailed: 21,
  /** The new configuration is valid and in place, but a service did not reload or start. */
  serviceFailed: 30,
  /** The transaction directory could not be created; nothing was changed. */
  noTransactionDir: 96,
  /** The script arrived incomplete (connection lost while sending); nothing was changed. */
  incomplete: 97,
} as const;

export const APPLY_MEANING: Record<number, string> = {
  [APPLY_EXIT.validationFailed]:
    'validation failed; the previous files were restored byte for byte and nothing was reloaded',
  [APPLY_EXIT.restoreFailed]: 'a change failed AND restoring the previous files failed: fix this host by hand',
  [APPLY_EXIT.writeFailed]: 'writing a file failed; the previous files were restored and nothing was reloaded',
  [APPLY_EXIT.packagesFailed]: 'installing packages failed; no file was changed',
  [APPLY_EXIT.sysctlFailed]: 'setting a sysctl failed; no file was changed',
  [APPLY_EXIT.serviceFailed]: 'the new configuration is valid and in place, but a service did not reload or start',
  [APPLY_EXIT.noTransactionDir]: `could not create a transaction directory under ${HOST_PATHS.stateDir}; nothing was changed`,
  [APPLY_EXIT.incomplete]: 'the connection broke while sending the change; nothing was changed',
};

export type ChangeAction = 'create' | 'update' | 'chmod' | 'remove';

export interface FileWrite {
  action: ChangeAction;
  path: string;
  /** New content, mode and owner; unused for remove. */
  content: string;
  mode: string;
  owner: string;
  group: string;
  /** The mode its directory is set to, root-owned (a TLS key's directory: 0700). */
  dirMode?: string;
}

export type ManagedService = 'nginx' | 'keepalived';

export interface ApplyRequest {
  host: string;
  changes: readonly FileWrite[];
  packages: readonly string[];
  /** Runtime sysctl values to set now (persisted by a file among the changes). */
  sysctl: Readonly<Record<string, string>>;
  reloadSysctl: boolean;
  reload: readonly ManagedService[];
  start: readonly ManagedService[];
  serviceManager: ServiceManager;
  packageManager?: PackageManager;
  /** The validators run after the swap. */
  validate: { keepalivedConf: string };
  /** How nginx is run here. Default: the package and its service. */
  nginx?: NginxLayout;
  /** The release this transaction records (deploy: a new one; rollback: the one it goes back to). */
  release?: ReleaseRecord;
}

/**
 * A new release (`manifest` and the host paths of every file hactl manages here, copied from
 * where they now are, i.e. after the swap) or, without a manifest, the existing release `id`
 * made current again (rollback). `keep`: releases kept, the current one always among them.
 */
export interface ReleaseRecord {
  id: string;
  manifest?: string;
  files?: readonly string[];
  keep: number;
  /** For the history line: deploy or rollback, and who. */
  action: 'deploy' | 'rollback';
  who: string;
}

const target = (c: FileWrite) => hostPath(c.path);
const layoutOf = (req: ApplyRequest): NginxLayout =>
  req.nginx ?? { kind: 'package', includeDir: HOST_PATHS.nginxConfDir };
const sibling = (c: FileWrite, suffix: string) => hostPath(`${c.path}${suffix}`);
const dirOf = (path: string) => path.slice(0, path.lastIndexOf('/')) || '/';

function prologue(req: ApplyRequest): Shell {
  return script(
    cmd`# hactl apply for ${req.host}`,
    // Hangups must not cut the transaction short: the operator's connection is not needed.
    raw("trap '' HUP INT TERM PIPE"),
    raw('d="$1"'),
    raw('mkdir -p "$d/new" "$d/old" || exit ' + APPLY_EXIT.noTransactionDir),
  );
}

/**
 * restore(): puts back every file swapped so far. A complete backup is $d/old/N (copied with
 * -a, so a symlink stays a symlink; it is renamed into place only once whole, so a failed
 * backup never overwrites the untouched original), N.absent marks a file that did not exist.
 */
function restoreFunction(req: ApplyRequest): Shell {
  return script(
    raw('restore() {'),
    raw('  rs_ok=0'),
    ...req.changes.flatMap((c, i) => [
      cmd`  rm -f ${sibling(c, '.hactl-new')}`,
      cmd`  if [ -e "$d/old/${i}.absent" ]; then rm -f ${target(c)} || rs_ok=1; elif [ -e "$d/old/${i}" ] || [ -L "$d/old/${i}" ]; then { cp -a "$d/old/${i}" ${sibling(c, '.hactl-restore')} && mv -f ${sibling(c, '.hactl-restore')} ${target(c)}; } || rs_ok=1; fi`,
    ]),
    raw('  return $rs_ok'),
    raw('}'),
    // fail CODE MESSAGE: restore, then exit CODE, or restoreFailed when restoring failed too.
    raw('fail() {'),
    raw('  echo "$2" >&2'),
    raw(
      `  restore || { echo "RESTORE FAILED: files may be half-updated; the previous files are in $d/old" >&2; exit ${APPLY_EXIT.restoreFailed}; }`,
    ),
    raw('  exit "$1"'),
    raw('}'),
  );
}

function packages(req: ApplyRequest): Shell | undefined {
  if (req.packages.length === 0) return undefined;
  return raw(
    `{ ${installCommand(req.packageManager, req.packages)}; } >"$d/pkg.log" 2>&1 || { cat "$d/pkg.log" >&2; exit ${APPLY_EXIT.packagesFailed}; }`,
  );
}

function sysctlNow(req: ApplyRequest): Shell | undefined {
  const entries = Object.entries(req.sysctl);
  if (entries.length === 0) return undefined;
  return script(...entries.map(([k, v]) => cmd`sysctl -qw ${`${k}=${v}`} || exit ${APPLY_EXIT.sysctlFailed}`));
}

/** Every new file into $d/new before anything on the host changes (a full disk fails here). */
function stage(req: ApplyRequest): Shell {
  return script(
    ...req.changes.flatMap((c, i) =>
      c.action === 'remove'
        ? []
        : [
            raw(
              `base64 -d > "$d/new/${i}" <<'HACTL_EOF' || { echo 'cannot stage ${i}' >&2; exit ${APPLY_EXIT.writeFailed}; }`,
            ),
            raw(
              Buffer.from(c.content)
                .toString('base64')
                .replace(/(.{76})/g, '$1\n'),
            ),
            raw('HACTL_EOF'),
          ],
    ),
  );
}

function swap(req: ApplyRequest): Shell {
  const failWrite = (what: string, c: FileWrite) => cmd`fail ${APPLY_EXIT.writeFailed} ${`cannot ${what} ${c.path}`}`;
  return script(
    ...req.changes.flatMap((c, i) => {
      const t = target(c);
      const backup = cmd`{ cp -a ${t} "$d/old/${i}.part" && mv -f "$d/old/${i}.part" "$d/old/${i}"; }`;
      if (c.action === 'remove')
        return [cmd`if [ -e ${t} ] || [ -L ${t} ]; then { ${backup} && rm -f ${t}; } || ${failWrite('remove', c)}; fi`];
      const tmp = sibling(c, '.hactl-new');
      const dir = hostPath(dirOf(c.path));
      return [
        cmd`mkdir -p ${dir} || ${failWrite('create the directory of', c)}`,
        // Before the file lands in it: a key is never in a directory others can list or enter.
        c.dirMode !== undefined &&
          cmd`{ chmod ${c.dirMode} ${dir} && chown root:root ${dir}; } || ${failWrite('set the mode of the directory of', c)}`,
        cmd`if [ -e ${t} ] || [ -L ${t} ]; then ${backup} || ${failWrite('back up', c)}; else : > "$d/old/${i}.absent"; fi`,
        cmd`{ cp "$d/new/${i}" ${tmp} && chmod ${c.mode} ${tmp} && chown ${`${c.owner}:${c.group}`} ${tmp} && mv -f ${tmp} ${t}; } || ${failWrite('write', c)}`,
      ];
    }),
  );
}

function validate(req: ApplyRequest): Shell {
  const conf = hostPath(req.validate.keepalivedConf);
  return script(
    cmd`kt=0; nt=0; keepalived -t -f ${conf} >"$d/kt.log" 2>&1 || kt=$?; ${nginxArgv(layoutOf(req), ['-t'])} >"$d/nt.log" 2>&1 || nt=$?`,
    // keepalived 2.1 reports an unknown keyword or interface but still exits 0.
    raw(`[ $kt -ne 0 ] || ! grep -Eq 'Unknown (keyword|interface)' "$d/kt.log" || kt=1`),
    raw('if [ $kt -ne 0 ] || [ $nt -ne 0 ]; then'),
    cmd`  [ $kt -eq 0 ] || { echo ${`keepalived -t -f ${req.validate.keepalivedConf} failed (exit`} "$kt):" >&2; cat "$d/kt.log" >&2; }`,
    raw('  [ $nt -eq 0 ] || { echo "nginx -t failed (exit $nt):" >&2; cat "$d/nt.log" >&2; }'),
    raw(`  fail ${APPLY_EXIT.validationFailed} 'the new configuration was refused by its validator'`),
    raw('fi'),
  );
}

/**
 * Records the release after the new files validated, so a release exists only where its files
 * were applied: the copies and the manifest go to a hidden directory renamed into place, then
 * `current` is renamed over; a failure before that restores the previous files (fail), so the
 * files are applied only with their release. Releases past `keep` go, never the current one.
 */
function recordRelease(req: ApplyRequest, rec: ReleaseRecord): Shell {
  if (!SAFE_ID.test(rec.id)) throw new Error(`release id ${rec.id}: letters, digits and - only`);
  const failRecord = (what: string) => cmd`fail ${APPLY_EXIT.writeFailed} ${`cannot ${what} (release ${rec.id})`}`;
  const rel = hostPath(HOST_PATHS.releasesDir);
  const fresh = rec.manifest !== undefined;
  return script(
    cmd`rel=${rel}; rid=${rec.id}`,
    cmd`{ mkdir -p "$rel" && chmod 700 "$rel"; } || ${failRecord('create the releases directory')}`,
    fresh && cmd`rn="$rel/.new-$rid"; rm -rf "$rn"; mkdir -p "$rn/files" || ${failRecord('create its directory')}`,
    ...(fresh ? (rec.files ?? []) : []).map(
      (f) =>
        cmd`{ mkdir -p "$rn/files"${dirOf(f)} && cp ${hostPath(f)} "$rn/files"${f} && chmod 600 "$rn/files"${f}; } || ${failRecord(`copy ${f} into`)}`,
    ),
    fresh &&
      script(
        raw(`base64 -d > "$rn/manifest" <<'HACTL_EOF' || { rm -rf "$rn"; ${failRecord('write the manifest').text}; }`),
        raw(
          Buffer.from(rec.manifest ?? '')
            .toString('base64')
            .replace(/(.{76})/g, '$1\n'),
        ),
        raw('HACTL_EOF'),
      ),
    !fresh && cmd`[ -f "$rel/$rid/manifest" ] || ${failRecord('find the release on this host')}`,
    cmd`printf '%s\\n' "$rid" > "$rel/.current.new" || ${failRecord('write current')}`,
    fresh && cmd`mv "$rn" "$rel/$rid" || { rm -rf "$rn"; ${failRecord('move it into place')}; }`,
    cmd`mv -f "$rel/.current.new" "$rel/current" || { ${fresh ? raw('rm -rf "$rel/$rid"; ') : raw('')}${failRecord('make it current')}; }`,
    // eslint-disable-next-line no-control-regex -- who is one line of the history file
    cmd`printf '%s %s %s %s\\n' "$(date +%s)" ${rec.action} "$rid" ${rec.who.replace(/[\u0000-\u001f]/g, ' ')} >> "$rel/history" 2>/dev/null`,
    cmd`ls -1d "$rel"/[0-9]* 2>/dev/null | sort | head -n -${rec.keep} | grep -vx "$rel/$rid" | xargs -r rm -rf`,
    raw(
      'if [ "$(wc -l < "$rel/history")" -gt 500 ]; then tail -n 200 "$rel/history" > "$rel/.history.new" && mv -f "$rel/.history.new" "$rel/history"; fi',
    ),
  );
}

/** The previous files, kept for the operator: the newest few transactions only. */
function keepBackups(req: ApplyRequest, stamp: string): Shell {
  const dir = hostPath(`${HOST_PATHS.backupsDir}/${stamp}`);
  return script(
    cmd`b=${dir}; mkdir -p "$b"`,
    ...req.changes.map(
      (c, i) =>
        cmd`if [ -e "$d/old/${i}" ]; then mkdir -p "$b"${dirOf(c.path)} && cp -a "$d/old/${i}" "$b"${c.path}; fi`,
    ),
    cmd`ls -1d ${hostPath(HOST_PATHS.backupsDir)}/* 2>/dev/null | sort | head -n -${KEEP_BACKUPS} | xargs -r rm -rf`,
  );
}

/** The process of a service, within 5 s of its start (an init script can exit 0 and start nothing). */
function startedCheck(name: ManagedService): Shell {
  return script(
    raw(`i=0; until grep -qx ${name} "$R"/proc/[0-9]*/comm 2>/dev/null; do`),
    raw(
      `  i=$((i+1)); [ $i -le 50 ] || { echo '${name} did not start: its init returned success but no ${name} process runs' >&2; exit ${APPLY_EXIT.serviceFailed}; }`,
    ),
    raw('  sleep 0.1'),
    raw('done'),
  );
}

function services(req: ApplyRequest): Shell {
  const svc = (action: 'reload' | 'start' | 'enable', name: string) =>
    raw(
      `( trap - HUP INT TERM; ${name === 'nginx' ? nginxControl(layoutOf(req), req.serviceManager, action) : serviceCommand(req.serviceManager, action, name)} ) >"$d/svc.log" 2>&1 || { echo ${quote(`${action} ${name} failed:`)} >&2; cat "$d/svc.log" >&2; exit ${APPLY_EXIT.serviceFailed}; }`,
    );
  return script(
    req.reloadSysctl && cmd`sysctl -q -p ${hostPath(HOST_PATHS.sysctl)} >/dev/null || exit ${APPLY_EXIT.sysctlFailed}`,
    ...(['nginx', 'keepalived'] as const).flatMap((name) => [
      req.reload.includes(name) && svc('reload', name),
      ...(req.start.includes(name) ? [svc('enable', name), svc('start', name), startedCheck(name)] : []),
    ]),
  );
}

/** The whole transaction text, with the end marker the bootstrap checks. */
export function applyScript(req: ApplyRequest, token: string, stamp: string, root = ''): string {
  const changed = req.changes.length > 0;
  const body = script(
    prologue(req),
    restoreFunction(req),
    packages(req),
    sysctlNow(req),
    changed && stage(req),
    changed && swap(req),
    changed && validate(req),
    req.release && recordRelease(req, req.release),
    changed && keepBackups(req, stamp),
    services(req),
    raw(`# hactl-end ${token}`),
  );
  return render(body, root);
}

/** The small command that receives the script on stdin, checks it arrived whole, runs it. */
export function bootstrapCommand(token: string, root = ''): string {
  const state = hostPath(HOST_PATHS.stateDir);
  return render(
    script(
      raw("trap '' PIPE"),
      cmd`umask 077; mkdir -p ${state}`,
      cmd`d=$(mktemp -d ${state}/txn.XXXXXX) || exit ${APPLY_EXIT.noTransactionDir}`,
      raw('cat > "$d/apply.sh"'),
      cmd`if [ "$(tail -n 1 "$d/apply.sh")" = ${`# hactl-end ${token}`} ]; then sh "$d/apply.sh" "$d"; rc=$?; else echo 'hactl: the apply script arrived incomplete; nothing was changed' >&2; rc=${APPLY_EXIT.incomplete}; fi`,
      // After a failed restore the backups in $d/old are the operator's way back: keep them.
      cmd`[ $rc -eq ${APPLY_EXIT.restoreFailed} ] || rm -rf "$d"`,
      raw('exit $rc'),
    ),
    root,
  );
}
