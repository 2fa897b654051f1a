/**
 * Desired (rendered files, packages, sysctl) vs actual (host facts) → the smallest set of
 * changes for one host. Pure. When nothing is needed the plan says why.
 */
import { createRequire } from 'node:module';

/** jsdiff, loaded on the first file that differs: a no-op deploy never needs it (~25 ms of start-up). */
let jsdiff: typeof import('diff') | undefined;
function createTwoFilesPatch(...args: Parameters<typeof import('diff').createTwoFilesPatch>): string {
  jsdiff ??= createRequire(import.meta.url)('diff') as typeof import('diff');
  return jsdiff.createTwoFilesPatch(...args);
}
import type { HostFacts } from '../facts/host-facts.js';
import { MANAGED_PACKAGES } from '../facts/host-facts.js';
import type { HostRender, RenderedFile, Service } from '../render/render.js';
import { maskSecrets } from '../inventory/secret.js';

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
  /** sysctl keys whose runtime value must be set now. */
  sysctl: string[];
  reload: Service[];
  start: ('nginx' | 'keepalived')[];
  changed: boolean;
  /** Why nothing is needed, or a one-line summary of the changes. */
  summary: string;
}

export function fileChange(file: RenderedFile, facts: HostFacts, secrets: string[]): FileChange {
  const remote = facts.files[file.path];
  if (!remote?.exists) {
    const diff = createTwoFilesPatch('/dev/null', file.path, '', file.content, '', '', { context: 3 });
    return { file, action: 'create', diff: maskSecrets(diff, secrets), reasons: ['absent'] };
  }
  const reasons: string[] = [];
  if (remote.sha256 !== file.sha256) reasons.push('content');
  if (remote.mode !== file.mode) reasons.push(`mode ${remote.mode} → ${file.mode}`);
  if (remote.owner !== file.owner || remote.group !== file.group)
    reasons.push(`owner ${remote.owner}:${remote.group} → ${file.owner}:${file.group}`);
  if (reasons.length === 0) return { file, action: 'unchanged', diff: '', reasons };
  const contentChanged = reasons.includes('content');
  const diff = contentChanged
    ? createTwoFilesPatch(file.path, file.path, remote.content ?? '', file.content, '', '', { context: 3 })
    : '';
  return { file, action: contentChanged ? 'update' : 'chmod', diff: maskSecrets(diff, secrets), reasons };
}

export function planHost(render: HostRender, facts: HostFacts): HostPlan {
  const files = render.files.map((f) => fileChange(f, facts, render.secrets));
  // hactl's own nginx files that nothing renders any more: left in place they keep serving an
  // old cluster's sites (and can clash with the new ones: duplicate upstream), so they go.
  const rendered = new Set(render.files.map((f) => f.path));
  for (const path of (facts.managed ?? []).filter((m) => !rendered.has(m)).sort()) {
    const remote = facts.files[path];
    const file: RenderedFile = {
      path,
      mode: remote?.mode ?? '0644',
      owner: remote?.owner ?? 'root',
      group: remote?.group ?? 'root',
      content: '',
      service: 'nginx',
      sha256: '',
    };
    const diff =
      remote?.content !== undefined
        ? createTwoFilesPatch(path, '/dev/null', remote.content, '', '', '', { context: 3 })
        : '';
    files.push({
      file,
      action: 'remove',
      diff: maskSecrets(diff, render.secrets),
      reasons: ['no longer rendered by the inventory'],
    });
  }
  const packages = MANAGED_PACKAGES.filter((p) => !facts.packages[p]);
  const sysctl = render.files
    .filter((f) => f.service === 'sysctl')
    .flatMap((f) => f.content.split('\n').filter((l) => /^net\./.test(l)))
    .map((l) => l.split('=').map((x) => x.trim()))
    .filter(([key, value]) => facts.sysctl[key.replace(/^net\./, '').replace(/\./g, '/')] !== value)
    .map(([key]) => key);
  const touched = new Set(files.filter((f) => f.action !== 'unchanged').map((f) => f.file.service));
  const willInstall = new Set(packages);
  const start: HostPlan['start'] = [];
  const reload: Service[] = [];
  for (const svc of ['nginx', 'keepalived'] as const) {
    const running = facts.running[svc] && !willInstall.has(svc);
    if (!running) start.push(svc);
    else if (touched.has(svc)) reload.push(svc);
  }
  if (touched.has('sysctl')) reload.push('sysctl');
  const changed =
    files.some((f) => f.action !== 'unchanged') || packages.length > 0 || sysctl.length > 0 || start.length > 0;
  const parts = [
    ...files.filter((f) => f.action !== 'unchanged').map((f) => `${f.action} ${f.file.path}`),
    ...(packages.length ? [`install ${packages.join(' ')}`] : []),
    ...sysctl.map((k) => `sysctl ${k}=1`),
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
