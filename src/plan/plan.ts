/**
 * Desired (rendered files, packages, sysctl) vs actual (host facts) → the smallest set of
 * changes for one host. Pure. When nothing is needed the plan says why.
 */
import { createRequire } from 'node:module';

import type { ApplyRequest, ChangeAction, ManagedService } from '../remote/apply.js';
import type { HostFacts } from '../remote/facts.js';
import { HOST_PATHS } from '../remote/paths.js';
import { MANAGED_PROGRAMS } from '../remote/sections/host.js';
import type { HostRender, RenderedFile, Service } from '../render/render.js';
import type { NginxLayout } from '../inventory/model.js';
import { maskSecrets, type Secret } from '../inventory/secret.js';
import { tlsChange } from './tls-change.js';

/** jsdiff, loaded on the first file that differs: a no-op deploy never needs it (~25 ms of start-up). */
let jsdiff: typeof import('diff') | undefined;
function createTwoFilesPatch(...args: Parameters<typeof import('diff').createTwoFilesPatch>): string {
  jsdiff ??= createRequire(import.meta.url)('diff') as typeof import('diff');
  return jsdiff.createTwoFilesPatch(...args);
}

/** remove: a hactl-*.conf nginx file the inventory no longer renders (a renamed or removed cluster). */
export type FileAction = 'create' | 'update' | 'chmod' | 'remove' | 'unchanged';

export interface FileChange {
  file: RenderedFile;
  action: FileAction;
  /** Unified diff with secrets masked; empty for unchanged. */
  diff: string;
  /** What differs, in words: content, mode 0644 → 0600, owner … */
  reasons: string[];
}

export interface HostPlan {
  host: string;
  cluster: string;
  files: FileChange[];
  packages: string[];
  /** sysctl keys whose runtime value must be set now, with that value. */
  sysctl: Record<string, string>;
  reload: Service[];
  start: ManagedService[];
  changed: boolean;
  /** Why nothing is needed, or a one-line summary of the changes. */
  summary: string;
}

export function fileChange(
  file: RenderedFile,
  facts: Pick<HostFacts, 'files'>,
  secrets: readonly Secret[],
): FileChange {
  const remote = facts.files[file.path];
  // Certificates and keys are shown by what they are, never as text (tls-change.ts).
  const tls = file.kind ? tlsChange(file, remote?.exists ? (remote.content ?? '') : undefined) : undefined;
  if (!remote?.exists) {
    const diff = tls?.diff ?? createTwoFilesPatch('/dev/null', file.path, '', file.content, '', '', { context: 3 });
    return {
      file,
      action: 'create',
      diff: maskSecrets(diff, secrets),
      reasons: tls ? ['absent', tls.reason] : ['absent'],
    };
  }
  const reasons: string[] = [];
  if (remote.sha256 !== file.sha256) reasons.push(tls?.reason ?? 'content');
  if (remote.mode !== file.mode) reasons.push(`mode ${remote.mode} → ${file.mode}`);
  if (remote.owner !== file.owner || remote.group !== file.group)
    reasons.push(`owner ${remote.owner}:${remote.group} → ${file.owner}:${file.group}`);
  if (reasons.length === 0) return { file, action: 'unchanged', diff: '', reasons };
  const contentChanged = remote.sha256 !== file.sha256;
  const textDiff = () =>
    createTwoFilesPatch(file.path, file.path, remote.content ?? '', file.content, '', '', { context: 3 });
  const diff = contentChanged ? (tls?.diff ?? textDiff()) : '';
  return { file, action: contentChanged ? 'update' : 'chmod', diff: maskSecrets(diff, secrets), reasons };
}

/**
 * hactl's keepalived scripts that a host may hold from an earlier deploy and this inventory may
 * not render (the HTTP check with health_check.mode process or none, the alive check with
 * alive_interval 0). facts read them always (host-ops factsRequest), so they can go.
 */
export const ORPHANABLE_SCRIPTS = [HOST_PATHS.checkScript, HOST_PATHS.aliveScript] as const;

/** What hactl writes at the top of every file it manages (templates: "Managed by hactl — do not edit"). */
const MANAGED_MARK = 'Managed by hactl';

/**
 * hactl's own files that nothing renders any more. nginx's: left in place they keep serving an
 * old cluster's sites (and can clash with the new ones: duplicate upstream). keepalived's
 * scripts: nothing runs them, but a stale check script beside a configuration that no longer
 * names it misleads whoever reads the host; only a file with hactl's mark goes.
 */
function removals(render: HostRender, facts: HostFacts): FileChange[] {
  const rendered = new Set(render.files.map((f) => f.path));
  const scripts = ORPHANABLE_SCRIPTS.filter((p) => facts.files[p]?.content?.includes(MANAGED_MARK));
  const service = (path: string): RenderedFile['service'] =>
    (ORPHANABLE_SCRIPTS as readonly string[]).includes(path) ? 'keepalived' : 'nginx';
  return [...new Set([...facts.managed, ...scripts])]
    .filter((m) => !rendered.has(m))
    .sort()
    .map((path) => {
      const remote = facts.files[path];
      const file: RenderedFile = {
        path,
        mode: remote?.mode ?? '0644',
        owner: remote?.owner ?? 'root',
        group: remote?.group ?? 'root',
        content: '',
        service: service(path),
        sha256: '',
      };
      const diff =
        remote?.content !== undefined
          ? createTwoFilesPatch(path, '/dev/null', remote.content, '', '', '', { context: 3 })
          : '';
      return {
        file,
        action: 'remove' as const,
        diff: maskSecrets(diff, render.secrets),
        reasons: ['no longer rendered by the inventory'],
      };
    });
}

/**
 * Debian's nginx package enables a default site that listens on *:80 (and [::]:80): on a load
 * balancer it would answer on the node's own address with the distribution's welcome page.
 * hactl's sites listen on the VIPs, so nothing of hactl's needs it.
 */
export const DISTRO_DEFAULT_SITE = '/etc/nginx/sites-enabled/default';

/** The packaged default site, when this deploy installed nginx (an operator's own site on a host that had nginx is theirs). */
function defaultSiteRemoval(facts: HostFacts): FileChange[] {
  const remote = facts.files[DISTRO_DEFAULT_SITE];
  if (!remote?.exists) return [];
  const file: RenderedFile = {
    path: DISTRO_DEFAULT_SITE,
    mode: remote.mode ?? '0644',
    owner: remote.owner ?? 'root',
    group: remote.group ?? 'root',
    content: '',
    service: 'nginx',
    sha256: '',
  };
  const reasons = ["the distribution's default site, installed with nginx by this deploy, listens on *:80"];
  return [{ file, action: 'remove', diff: '', reasons }];
}

/** Runtime values that differ from what the model wants (the file persists them; this sets them now). */
function sysctlChanges(render: HostRender, facts: HostFacts): Record<string, string> {
  return Object.fromEntries(Object.entries(render.sysctl).filter(([key, value]) => facts.sysctl[key] !== value));
}

/** Start what does not run (or is being installed); reload what runs and had a file change. */
function serviceChanges(files: FileChange[], facts: HostFacts, packages: string[]) {
  const touched = new Set(files.filter((f) => f.action !== 'unchanged').map((f) => f.file.service));
  const start: ManagedService[] = [];
  const reload: Service[] = [];
  for (const svc of ['nginx', 'keepalived'] as const) {
    const running = facts.running[svc] && !packages.includes(svc);
    if (!running) start.push(svc);
    else if (touched.has(svc)) reload.push(svc);
  }
  if (touched.has('sysctl')) reload.push('sysctl');
  return { start, reload };
}

export interface PlanOptions {
  /** nginx was installed by this deploy: its packaged default site goes. */
  disableDefaultSite?: boolean;
}

export function planHost(render: HostRender, facts: HostFacts, opts: PlanOptions = {}): HostPlan {
  const files = [
    ...render.files.map((f) => fileChange(f, facts, render.secrets)),
    ...removals(render, facts),
    ...(opts.disableDefaultSite ? defaultSiteRemoval(facts) : []),
  ];
  // A build under its own prefix is the operator's nginx: hactl never installs the package beside it.
  const prefixNginx = render.lb.nginx.kind === 'prefix';
  const packages = MANAGED_PROGRAMS.filter((p) => !facts.programs[p] && !(p === 'nginx' && prefixNginx));
  const sysctl = sysctlChanges(render, facts);
  const { start, reload } = serviceChanges(files, facts, packages);
  const changing = files.filter((f) => f.action !== 'unchanged');
  const changed = changing.length > 0 || packages.length > 0 || Object.keys(sysctl).length > 0 || start.length > 0;
  const parts = [
    ...changing.map((f) => `${f.action} ${f.file.path}`),
    ...(packages.length ? [`install ${packages.join(' ')}${installNote(packages, facts)}`] : []),
    ...Object.entries(sysctl).map(([k, v]) => `sysctl ${k}=${v}`),
    ...reload.filter((s) => s !== 'sysctl').map((s) => `reload ${s}`),
    ...start.map((s) => `start ${s}`),
  ];
  return {
    host: render.lb.name,
    cluster: render.cluster.name,
    files,
    packages,
    sysctl,
    reload,
    start,
    changed,
    summary: changed ? parts.join(', ') : 'up to date: files, packages and sysctl match; keepalived and nginx running',
  };
}

/** What installing brings that hactl takes care of, so the plan says it before it happens. */
function installNote(packages: string[], facts: HostFacts): string {
  const notes: string[] = [];
  if (packages.includes('nginx') && facts.os.packageManager === 'apt-get')
    notes.push('then disable the packaged default site on *:80');
  notes.push('then render for the installed versions');
  return ` (${notes.join('; ')})`;
}

/** What the host's transaction must do for this plan. */
export function applyRequest(plan: HostPlan, facts: HostFacts, nginx?: NginxLayout): ApplyRequest {
  return {
    host: plan.host,
    changes: plan.files
      .filter((f): f is FileChange & { action: ChangeAction } => f.action !== 'unchanged')
      .map((f) => ({ action: f.action, ...f.file })),
    packages: plan.packages,
    sysctl: plan.sysctl,
    reloadSysctl: plan.reload.includes('sysctl'),
    reload: plan.reload.filter((s): s is ManagedService => s !== 'sysctl'),
    start: plan.start,
    serviceManager: facts.os.serviceManager,
    ...(facts.os.packageManager ? { packageManager: facts.os.packageManager } : {}),
    validate: { keepalivedConf: HOST_PATHS.keepalivedConf },
    ...(nginx ? { nginx } : {}),
  };
}
