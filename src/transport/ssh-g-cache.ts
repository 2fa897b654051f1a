/**
 * `ssh -G` answers kept between runs. Asking OpenSSH costs a process per host (about 4 ms of
 * CPU each; 0.2 s of a 50-host no-op on two cores), and the answer changes only when what ssh
 * reads changes. So the answers are kept with a fingerprint of everything that goes into them,
 * and used only while the fingerprint is the same:
 *
 * - the ssh binary found on PATH (its path and stat identity: an upgrade is a new binary);
 * - the wrapper config and every config file ssh could read through it: the user's and the
 *   system's, and each Include, followed the way ssh follows them (`~`, paths relative to
 *   ~/.ssh or /etc/ssh, `*` and `?` in the last component), each by its path, owner, mode
 *   and content, so a file that appears, goes or changes is a new fingerprint;
 * - what tokens can bring in: the local user, uid, home and host name, and every `${VAR}`
 *   the files mention.
 *
 * Where an answer can depend on anything else, nothing is cached and ssh is asked every time:
 * `Match exec` (a command), `Match localnetwork` (the network), `CanonicalizeHostname` other
 * than `no` anywhere (DNS), a Match criterion hactl does not know, an Include it cannot
 * follow exactly (a `[` class, a wildcard in a directory, a token), an empty PATH entry, or a
 * file it cannot read. The answers are stored as given (the lines hactl parses), in the user's cache
 * directory (0600), written once at exit by a rename; `HACTL_CACHE_DIR=` turns it off.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { hostname, userInfo } from 'node:os';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { cacheFile, writeCacheFile } from '../util/cache-file.js';
import { matchPattern } from './known-hosts.js';
import { splitLine } from './ssh-config.js';

const FORMAT = 1;
const MAX_ANSWERS = 5_000;
/** ssh's own limit on nested Includes (readconf.c READCONF_MAX_DEPTH). */
const MAX_DEPTH = 16;
/**
 * Match criteria whose outcome the fingerprint covers: the host and users asked, and the config
 * itself. `canonical` and `final` only mean another pass over the same files, which is as
 * deterministic as the first while no CanonicalizeHostname asks DNS (checked separately):
 * Fedora's and RHEL's system config has `Match final all`.
 */
const PURE_CRITERIA = new Set(['all', 'host', 'originalhost', 'user', 'localuser', 'tagged', 'canonical', 'final']);

export interface FingerprintInput {
  /** The ssh command as given (a name looked up on PATH, or a path). */
  ssh: string;
  /** The wrapper's text (it names the files it includes). */
  wrapper: string;
  /** The config files the wrapper includes. */
  files: string[];
  env?: NodeJS.ProcessEnv;
}

class Uncacheable extends Error {}

async function sshBinary(ssh: string, env: NodeJS.ProcessEnv): Promise<string> {
  const candidates = ssh.includes('/') ? [ssh] : (env.PATH ?? '').split(':').map((d) => (d ? join(d, ssh) : ''));
  for (const path of candidates) {
    // An empty entry is the current directory to execvp: not worth following.
    if (!path) throw new Uncacheable('empty PATH entry');
    const st = await stat(path).catch(() => undefined);
    if (st?.isFile() && st.mode & 0o111) return `${path} ${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
  }
  throw new Uncacheable('no ssh on PATH'); // ssh -G will say ENOENT, and the built-in reader takes over
}

/** Throws when a config line makes answers depend on something the fingerprint does not cover. */
function lineRisks(key: string, args: string[]): void {
  if (key === 'canonicalizehostname' && args[0]?.toLowerCase() !== 'no') throw new Uncacheable(key);
  if (key !== 'match') return;
  for (let i = 0; i < args.length; i++) {
    const criterion = args[i].replace(/^!/, '').toLowerCase();
    if (!PURE_CRITERIA.has(criterion)) throw new Uncacheable(`Match ${criterion}`);
    if (criterion !== 'all') i++; // its value
  }
}

/** The fingerprint of everything an ssh -G answer depends on, or undefined where that cannot be known. */
export async function sshGFingerprint(input: FingerprintInput): Promise<string | undefined> {
  const env = input.env ?? process.env;
  const me = userInfo();
  const userSshDir = join(me.homedir, '.ssh');
  const parts: unknown[] = [FORMAT, input.wrapper, me.username, me.uid, me.homedir, env.HOME, hostname()];
  const vars = new Set<string>();
  const seen = new Set<string>();
  const readConfig = async (file: string, depth: number): Promise<void> => {
    if (depth > MAX_DEPTH) throw new Uncacheable('Include nested too deeply');
    const st = await stat(file).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT' || e.code === 'ENOTDIR') return undefined;
      throw new Uncacheable(`${file}: ${e.code}`);
    });
    if (!st) return void parts.push([file, 'absent']);
    const text = await readFile(file, 'utf8').catch(() => {
      throw new Uncacheable(`${file}: unreadable`);
    });
    parts.push([file, st.uid, st.mode, createHash('sha256').update(text).digest('hex')]);
    if (seen.has(file)) return; // included twice: read once more by ssh, counted once here
    seen.add(file);
    for (const raw of text.split('\n')) {
      for (const m of raw.matchAll(/\$\{([^}]*)\}/g)) vars.add(m[1]);
      const line = splitLine(raw);
      if (!line) continue;
      lineRisks(line.key, line.args);
      if (line.key === 'include') for (const pattern of line.args) await include(pattern, depth + 1);
    }
  };
  const include = async (pattern: string, depth: number): Promise<void> => {
    if (/[[%$]/.test(pattern) || /^~[^/]/.test(pattern)) throw new Uncacheable(`Include ${pattern}`);
    const expanded = pattern === '~' || pattern.startsWith('~/') ? join(me.homedir, pattern.slice(1)) : pattern;
    // Relative to ~/.ssh from a user config, /etc/ssh from a system one: both are followed.
    const paths = isAbsolute(expanded) ? [expanded] : [join(userSshDir, expanded), join('/etc/ssh', expanded)];
    for (const path of paths) {
      if (/[*?]/.test(dirname(path))) throw new Uncacheable(`Include ${pattern}`);
      const base = basename(path);
      if (!/[*?]/.test(base)) {
        await readConfig(path, depth);
        continue;
      }
      const names = await readdir(dirname(path)).catch(() => [] as string[]);
      const matched = names.filter((n) => matchPattern(base, n)).sort();
      for (const n of matched) await readConfig(join(dirname(path), n), depth);
    }
  };
  try {
    parts.push(await sshBinary(input.ssh, env));
    for (const f of input.files) await readConfig(f, 0);
  } catch (e) {
    if (e instanceof Uncacheable) return undefined;
    throw e;
  }
  parts.push([...vars].sort().map((v) => [v, env[v] ?? null]));
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex');
}

/** The answers for one fingerprint. */
export interface SshGAnswers {
  get(key: string): string | undefined;
  set(key: string, answer: string): void;
}

export class SshGCache {
  private stored?: { fingerprint: string; answers: Map<string, string> };
  private dirty = false;

  constructor(readonly file: string | undefined) {}

  private load(): { fingerprint: string; answers: Map<string, string> } | undefined {
    if (this.stored || !this.file) return this.stored;
    try {
      const data = JSON.parse(readFileSync(this.file, 'utf8')) as {
        format?: unknown;
        fingerprint?: unknown;
        answers?: unknown;
      };
      if (
        data.format === FORMAT &&
        typeof data.fingerprint === 'string' &&
        data.answers &&
        typeof data.answers === 'object'
      )
        this.stored = {
          fingerprint: data.fingerprint,
          answers: new Map(Object.entries(data.answers).filter((e): e is [string, string] => typeof e[1] === 'string')),
        };
    } catch {
      // missing or unreadable: every host is asked
    }
    return this.stored;
  }

  /** The answers valid under `fingerprint` (none kept yet when it changed). */
  answers(fingerprint: string): SshGAnswers | undefined {
    if (!this.file) return undefined;
    const stored = this.load();
    if (stored?.fingerprint !== fingerprint) this.stored = { fingerprint, answers: new Map() };
    const current = this.stored as { fingerprint: string; answers: Map<string, string> };
    return {
      get: (key) => current.answers.get(key),
      set: (key, answer) => {
        if (current.answers.get(key) === answer) return;
        current.answers.delete(key);
        current.answers.set(key, answer);
        this.dirty = true;
      },
    };
  }

  save(): void {
    if (!this.dirty || !this.file || !this.stored) return;
    this.dirty = false;
    const answers = Object.fromEntries([...this.stored.answers].slice(-MAX_ANSWERS));
    writeCacheFile(this.file, `${JSON.stringify({ format: FORMAT, fingerprint: this.stored.fingerprint, answers })}\n`);
  }
}

let shared: SshGCache | undefined;

/** The process's cache ($cache/ssh-g.json), saved when the process exits. */
export function sshGCache(): SshGCache {
  if (!shared) {
    const cache = new SshGCache(cacheFile(process.env, process.platform, 'ssh-g.json'));
    shared = cache;
    process.once('exit', () => cache.save());
  }
  return shared;
}
