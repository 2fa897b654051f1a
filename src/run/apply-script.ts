/**
 * The apply script for one host: validate-swap-reload as a single transaction, built as text
 * (pure) and sent over stdin in one round trip. It survives a dropped connection: the payload
 * is saved and checked for its end marker before anything runs, and the script ignores
 * hangups, so a host always ends on its old or its new configuration, never half of one.
 */
import { sh } from '../shell/quote.js';
import type { HostFacts, ServiceManager } from '../facts/host-facts.js';
import type { HostPlan } from '../plan/plan.js';
import { PATHS } from '../render/render.js';

export const APPLY_EXIT = {
  ok: 0,
  validationFailed: 10,
  restoreFailed: 11,
  packagesFailed: 20,
  sysctlFailed: 21,
  serviceFailed: 30,
  incomplete: 97,
} as const;

export const STATE_DIR = '/var/lib/hactl';
const KEEP_BACKUPS = 5;

export function serviceCommand(
  sm: ServiceManager,
  action: 'reload' | 'start' | 'stop' | 'enable',
  svc: string,
): string {
  switch (sm) {
    case 'systemd':
      return sh(['systemctl', action, svc]);
    case 'openrc':
      return action === 'enable' ? sh(['rc-update', 'add', svc, 'default']) : sh(['rc-service', svc, action]);
    case 'sysvinit':
      return action === 'enable' ? 'true' : sh(['service', svc, action]);
  }
}

export function installCommand(facts: HostFacts, packages: string[]): string {
  switch (facts.packageManager) {
    case 'apt-get':
      // Try without touching the network first; refresh the lists only if that fails.
      return `export DEBIAN_FRONTEND=noninteractive; ${sh(['apt-get', 'install', '-y', '-q', '--no-install-recommends', ...packages])} || { apt-get update -q && ${sh(['apt-get', 'install', '-y', '-q', '--no-install-recommends', ...packages])}; }`;
    case 'dnf':
    case 'yum':
      return sh([facts.packageManager, 'install', '-y', ...packages]);
    default:
      return `echo 'no supported package manager (apt-get, dnf, yum)' >&2; false`;
  }
}

/** The small command that receives the script on stdin, checks it arrived whole, runs it. */
export function bootstrapCommand(token: string): string {
  return [
    "trap '' PIPE",
    `umask 077; mkdir -p ${STATE_DIR}`,
    `d=$(mktemp -d ${STATE_DIR}/txn.XXXXXX) || exit 96`,
    'cat > "$d/apply.sh"',
    `if [ "$(tail -n 1 "$d/apply.sh")" = ${sh([`# hactl-end ${token}`])} ]; then sh "$d/apply.sh" "$d"; rc=$?; else echo 'hactl: the apply script arrived incomplete; nothing was changed' >&2; rc=${APPLY_EXIT.incomplete}; fi`,
    'rm -rf "$d"',
    'exit $rc',
  ].join('\n');
}

export function applyScript(plan: HostPlan, facts: HostFacts, token: string, stamp: string): string {
  const sm = facts.serviceManager;
  const changed = plan.files.filter((f) => f.action !== 'unchanged');
  const out: string[] = [
    '#!/bin/sh',
    `# hactl apply for ${plan.host}`,
    "trap '' HUP INT TERM",
    'd="$1"',
    'step() { printf "@@%s\\n" "$*"; }',
    'mkdir -p "$d/new" "$d/old"',
  ];
  if (plan.packages.length > 0)
    out.push(
      `step packages ${plan.packages.join(' ')}`,
      `{ ${installCommand(facts, plan.packages)}; } >"$d/pkg.log" 2>&1 || { cat "$d/pkg.log" >&2; exit ${APPLY_EXIT.packagesFailed}; }`,
    );
  if (plan.sysctl.length > 0)
    out.push(
      'step sysctl',
      ...plan.sysctl.map((k) => `sysctl -qw ${sh([`${k}=1`])} || exit ${APPLY_EXIT.sysctlFailed}`),
    );
  // Stage every new file first: nothing on the host changes until all of them are here.
  changed.forEach((c, i) => {
    if (c.action === 'remove') return;
    out.push(
      `base64 -d > "$d/new/${i}" <<'HACTL_EOF'`,
      Buffer.from(c.file.content)
        .toString('base64')
        .replace(/(.{76})/g, '$1\n'),
      'HACTL_EOF',
    );
  });
  if (changed.length > 0) {
    out.push('step swap');
    changed.forEach((c, i) => {
      const t = sh([c.file.path]);
      const dir = sh([c.file.path.slice(0, c.file.path.lastIndexOf('/')) || '/']);
      if (c.action === 'remove') {
        out.push(
          `if [ -e ${t} ]; then cp -p ${t} "$d/old/${i}" && rm -f ${t} || { echo "cannot remove ${c.file.path}" >&2; rollback; exit ${APPLY_EXIT.validationFailed}; }; fi`,
        );
        return;
      }
      out.push(
        `mkdir -p ${dir}`,
        `if [ -e ${t} ]; then cp -p ${t} "$d/old/${i}"; else : > "$d/old/${i}.absent"; fi`,
        `cp "$d/new/${i}" ${t}.hactl-new && chmod ${c.file.mode} ${t}.hactl-new && chown ${c.file.owner}:${c.file.group} ${t}.hactl-new && mv -f ${t}.hactl-new ${t} || { echo "cannot write ${c.file.path}" >&2; rollback; exit ${APPLY_EXIT.validationFailed}; }`,
      );
    });
  }
  // rollback() is defined before use by prepending below.
  const rollback = [
    'rollback() {',
    '  ok=0',
    ...changed.map((c, i) => {
      const t = sh([c.file.path]);
      return `  if [ -e "$d/old/${i}.absent" ]; then rm -f ${t} ${t}.hactl-new || ok=1; elif [ -e "$d/old/${i}" ]; then cp -p "$d/old/${i}" ${t}.hactl-restore && mv -f ${t}.hactl-restore ${t} || ok=1; fi`;
    }),
    `  [ $ok -eq 0 ] || { echo 'RESTORE FAILED: files may be half-updated; backups are in '"$d"/old >&2; trap - EXIT; exit ${APPLY_EXIT.restoreFailed}; }`,
    '}',
  ];
  out.splice(6, 0, ...rollback);
  if (changed.length > 0) {
    out.push(
      'step validate',
      `kt=0; nt=0; keepalived -t -f ${PATHS.keepalivedConf} >"$d/kt.log" 2>&1 || kt=$?; nginx -t >"$d/nt.log" 2>&1 || nt=$?`,
      `if [ $kt -ne 0 ] || [ $nt -ne 0 ]; then rollback; [ $kt -eq 0 ] || { echo "keepalived -t -f ${PATHS.keepalivedConf} failed (exit $kt):" >&2; cat "$d/kt.log" >&2; }; [ $nt -eq 0 ] || { echo "nginx -t failed (exit $nt):" >&2; cat "$d/nt.log" >&2; }; exit ${APPLY_EXIT.validationFailed}; fi`,
      // Keep the previous files for the operator, newest few only.
      `b=${STATE_DIR}/backups/${stamp}; mkdir -p "$b"`,
      ...changed.map(
        (c, i) =>
          `[ -e "$d/old/${i}" ] && mkdir -p "$b"${sh([c.file.path.slice(0, c.file.path.lastIndexOf('/'))])} && cp -p "$d/old/${i}" "$b"${sh([c.file.path])}`,
      ),
      `ls -1d ${STATE_DIR}/backups/* 2>/dev/null | sort | head -n -${KEEP_BACKUPS} | xargs -r rm -rf`,
    );
  }
  const svc = (action: 'reload' | 'start' | 'enable', name: string) =>
    `( trap - HUP INT TERM; ${serviceCommand(sm, action, name)} ) >"$d/svc.log" 2>&1 || { echo "${action} ${name} failed:" >&2; cat "$d/svc.log" >&2; exit ${APPLY_EXIT.serviceFailed}; }`;
  if (plan.reload.includes('sysctl'))
    out.push('step reload sysctl', `sysctl -q -p ${PATHS.sysctl} >/dev/null || exit ${APPLY_EXIT.sysctlFailed}`);
  for (const name of ['nginx', 'keepalived'] as const) {
    if (plan.reload.includes(name)) out.push(`step reload ${name}`, svc('reload', name));
    if (plan.start.includes(name)) out.push(`step start ${name}`, svc('enable', name), svc('start', name));
  }
  out.push('step done', `# hactl-end ${token}`);
  return out.join('\n') + '\n';
}
