/**
 * What this machine saw of each host's keepalived and nginx: the binary's identity (stat -L
 * device:inode:size:ctime) and the version it reported. Facts send the known identity, and a
 * host whose binary still has it skips `keepalived --version` and `nginx -v`, the two costliest
 * processes of a facts read (about 20 ms of a host's CPU and wall together, on every deploy,
 * verify and status). The host is never written to: the memory is the operator's, in
 * $HACTL_CACHE_DIR/programs.json (else $XDG_CACHE_HOME/hactl, ~/Library/Caches/hactl on macOS,
 * ~/.cache/hactl), keyed by the SSH route to the host. `HACTL_CACHE_DIR=` (empty) turns it off.
 *
 * It is a cache and nothing more: a missing, unreadable or corrupt file means every version is
 * asked again; a file that cannot be written is left as it was; two hactl runs at once may each
 * write theirs (the last one wins; the other's entries are asked again next time). The file is
 * written once, when the process exits, by a rename, so it is never half written.
 */
import { readFileSync } from 'node:fs';
import { cacheFile, writeCacheFile } from '../util/cache-file.js';
import type { KnownPrograms, Programs } from './sections/host.js';

const FORMAT = 1;
/** Entries kept; the oldest go first, so a laptop that deploys many sites keeps a bounded file. */
const MAX_HOSTS = 5_000;

const ID = /^\d+:\d+:\d+:\d+$/;
const VERSION = /^\d+(?:\.\d+)+$/;

function valid(entry: unknown): KnownPrograms | undefined {
  if (!entry || typeof entry !== 'object') return undefined;
  const out: KnownPrograms = {};
  for (const prog of ['keepalived', 'nginx'] as const) {
    const p = (entry as Record<string, unknown>)[prog] as { id?: unknown; version?: unknown } | undefined;
    if (p && typeof p.id === 'string' && ID.test(p.id) && typeof p.version === 'string' && VERSION.test(p.version))
      out[prog] = { id: p.id, version: p.version };
  }
  return out;
}

export class KnownProgramsCache {
  private hosts?: Map<string, KnownPrograms>;
  private dirty = false;

  constructor(readonly file: string | undefined) {}

  private load(): Map<string, KnownPrograms> {
    if (this.hosts) return this.hosts;
    this.hosts = new Map();
    if (!this.file) return this.hosts;
    try {
      const data = JSON.parse(readFileSync(this.file, 'utf8')) as { format?: unknown; hosts?: unknown };
      if (data.format === FORMAT && data.hosts && typeof data.hosts === 'object')
        for (const [key, entry] of Object.entries(data.hosts)) {
          const known = valid(entry);
          if (known) this.hosts.set(key, known);
        }
    } catch {
      // missing or unreadable: every version is asked
    }
    return this.hosts;
  }

  known(key: string | undefined): KnownPrograms {
    return (key && this.file && this.load().get(key)) || {};
  }

  /** Keeps what the host said: each versioned program with an identity and a version. */
  remember(key: string | undefined, programs: Programs): void {
    if (!key || !this.file) return;
    const next: KnownPrograms = {};
    for (const prog of ['keepalived', 'nginx'] as const) {
      const p = programs[prog];
      if (p?.id && p.version && ID.test(p.id) && VERSION.test(p.version)) next[prog] = { id: p.id, version: p.version };
    }
    const hosts = this.load();
    const before = hosts.get(key);
    if (JSON.stringify(before ?? {}) === JSON.stringify(next)) return;
    hosts.delete(key); // re-inserted last: the newest
    if (Object.keys(next).length) hosts.set(key, next);
    this.dirty = true;
  }

  /** Writes the file when something changed; never throws (a cache that cannot be kept is not an error). */
  save(): void {
    if (!this.dirty || !this.file || !this.hosts) return;
    this.dirty = false;
    const entries = [...this.hosts].slice(-MAX_HOSTS);
    writeCacheFile(this.file, `${JSON.stringify({ format: FORMAT, hosts: Object.fromEntries(entries) })}\n`);
  }
}

let shared: KnownProgramsCache | undefined;

/** The process's cache, saved when the process exits. */
export function knownPrograms(): KnownProgramsCache {
  if (!shared) {
    const cache = new KnownProgramsCache(cacheFile());
    shared = cache;
    process.once('exit', () => cache.save());
  }
  return shared;
}
