/**
 * A release: what one deploy applied to one load balancer, recorded on that host under
 * /var/lib/hactl/releases/<id>/ in the same transaction as the files (a copy of every file
 * hactl manages there, and this manifest). The id is the same on every host of one deploy and
 * sorts by time. The manifest is line-based (`key value…`), so a shell loop reads it without a
 * process and the section's parser is a few lines; it holds no secret (the copies do, and the
 * directory is root's only).
 */
import { randomBytes } from 'node:crypto';
import type { Service } from '../render/render.js';
import type { Versions } from '../render/features.js';

export const RELEASE_ID = /^\d{8}T\d{6}Z-[0-9a-f]{4}$/;

export interface ReleaseFile {
  path: string;
  mode: string;
  owner: string;
  group: string;
  service: Service;
  sha256: string;
}

/** What the deploy planned for each host of the cluster: unchanged hosts stay on the release they were on. */
export interface PlannedHost {
  host: string;
  changed: boolean;
  /** For an unchanged host: the release it was on (absent: none recorded). */
  release?: string;
}

export interface Manifest {
  id: string;
  /** ISO 8601 UTC. */
  time: string;
  who: string;
  hactl: string;
  /** sha256 of the inventory file the release was rendered from. */
  inventory: string;
  cluster: string;
  host: string;
  /** The keepalived and nginx versions the files were rendered for. */
  versions: Versions;
  /** The release this host was on before. */
  previous?: string;
  plan: PlannedHost[];
  files: ReleaseFile[];
}

/** 20261201T101500Z-3fa2: the deploy's UTC start, then 4 random hex digits. */
export function newReleaseId(now: Date, random = randomBytes(2).toString('hex')): string {
  return `${now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')}-${random}`;
}

/** One line of free text: no control characters, no line breaks. */
// eslint-disable-next-line no-control-regex -- control characters are exactly what it removes
const oneLine = (s: string) => s.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim() || '-';

export function formatManifest(m: Manifest): string {
  const lines = [
    'hactl-release 1',
    `id ${m.id}`,
    `time ${m.time}`,
    `who ${oneLine(m.who)}`,
    `hactl ${oneLine(m.hactl)}`,
    `inventory ${m.inventory}`,
    `cluster ${m.cluster}`,
    `host ${m.host}`,
    ...Object.entries(m.versions).map(([k, v]) => `version ${k} ${v}`),
    ...(m.previous ? [`previous ${m.previous}`] : []),
    ...m.plan.map((p) => `plan ${p.host} ${p.changed ? 'changed' : `unchanged ${p.release ?? '-'}`}`),
    ...m.files.map((f) => `file ${f.sha256} ${f.mode} ${f.owner} ${f.group} ${f.service} ${f.path}`),
  ];
  return `${lines.join('\n')}\n`;
}

const SERVICES = new Set(['keepalived', 'nginx', 'sysctl']);

/** The lines of a manifest back to its fields; throws on anything that is not one. */
export function parseManifest(lines: string[]): Manifest {
  const m: Partial<Manifest> & { versions: Versions; plan: PlannedHost[]; files: ReleaseFile[] } = {
    versions: {},
    plan: [],
    files: [],
  };
  for (const line of lines) {
    const [key, ...rest] = line.split(' ');
    const value = rest.join(' ');
    if (['id', 'time', 'who', 'hactl', 'inventory', 'cluster', 'host', 'previous'].includes(key))
      (m as Record<string, unknown>)[key] = value;
    else if (key === 'version' && (rest[0] === 'keepalived' || rest[0] === 'nginx')) m.versions[rest[0]] = rest[1];
    else if (key === 'plan')
      m.plan.push({
        host: rest[0],
        changed: rest[1] === 'changed',
        ...(rest[1] === 'unchanged' && rest[2] && rest[2] !== '-' ? { release: rest[2] } : {}),
      });
    else if (key === 'file') {
      const [sha256, mode, owner, group, service, ...path] = rest;
      if (!SERVICES.has(service) || !/^[0-9a-f]{64}$/.test(sha256)) throw new Error(`bad file line: ${line}`);
      m.files.push({ sha256, mode, owner, group, service: service as Service, path: path.join(' ') });
    }
  }
  if (!m.id || !RELEASE_ID.test(m.id)) throw new Error(`no valid release id (${m.id ?? 'none'})`);
  return { time: '', who: '', hactl: '', inventory: '', cluster: '', host: '', ...m } as Manifest;
}
