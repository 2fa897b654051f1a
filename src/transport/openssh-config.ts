/**
 * ~/.ssh/config as OpenSSH itself reads it: `ssh -G host` prints the options in force for a host
 * after every Host and Match block, Include, token in HostName, and the system config
 * (/etc/ssh/ssh_config), without connecting (about 5-10 ms a host). One run per host and
 * command-line overrides, cached for the connector's lifetime, and between runs while nothing
 * the answer depends on has changed (ssh-g-cache.ts). The lookups of one burst (every
 * host of a run, asked at once) share one `sh`, which runs their `ssh -G` a few at a time:
 * node spawning a process blocks its event loop for a fork of a big process (0.35 s of the
 * 100-LB no-op when it spawned one ssh per host; with eight `sh`, 100 lookups stalled it for
 * up to ~75 ms, with one ~27 ms), where `sh` forks cheaply.
 *
 * ssh -G fills in ssh's own defaults (the local user, id_rsa…), which hactl must tell apart from
 * values the config set, because hactl's defaults differ (user root) and an inventory
 * identity_file replaces the config's keys. So ssh reads a small wrapper instead of the user's
 * file directly: it includes the user's config and the system config, in the order ssh reads
 * them, and then sets two markers that only apply where nothing earlier did (first value wins).
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { quote, sh } from '../shell/quote.js';
import type { HostConfig, HostLookup, LookupOverrides } from './ssh-config.js';
import { sshGFingerprint, type SshGAnswers, type SshGCache } from './ssh-g-cache.js';

const DEFAULT_USER = 'hactl-default-user';
const DEFAULT_IDENTITY = '/hactl-default-identity';
const SYSTEM_CONFIG = '/etc/ssh/ssh_config';

export interface OpenSshOptions {
  /** The ssh binary. Default: ssh (from PATH). */
  ssh?: string;
  /** Read only this file, as `ssh -F` does (no system config). Default: ~/.ssh/config, then /etc/ssh/ssh_config. */
  configPath?: string;
  home?: string;
  /** Answers kept between runs (ssh-g-cache.ts). Default: none, ssh is asked once per host and lookup. */
  cache?: SshGCache;
}

/** No OpenSSH client to ask (spawning `ssh` failed with ENOENT). */
export class NoOpenSsh extends Error {
  override name = 'NoOpenSsh';
}

/** The `ssh -G` keywords parseSshG reads. */
const USED = /^(hostname|user|port|identityfile|identitiesonly|identityagent|proxycommand|proxyjump)\s/i;

/** The lines of an answer parseSshG reads: all that is worth keeping between runs. */
function usedLines(text: string): string {
  return text
    .split('\n')
    .filter((l) => USED.test(l.trim()))
    .join('\n');
}

/** Parses `ssh -G` output into what hactl uses. */
export function parseSshG(text: string): HostConfig {
  const out: HostConfig = { identityFiles: [], identitiesOnly: false, ignored: [] };
  for (const line of text.split('\n')) {
    const m = /^(\S+)\s+(.*)$/.exec(line.trim());
    if (!m) continue;
    const [, rawKey, value] = m;
    const key = rawKey.toLowerCase();
    if (key === 'identityfile' && value !== DEFAULT_IDENTITY) out.identityFiles.push(value);
    else if (key === 'hostname') out.hostName = value;
    else if (key === 'user' && value !== DEFAULT_USER) out.user = value;
    else if (key === 'port') out.port = Number(value);
    else if (key === 'identitiesonly') out.identitiesOnly = value === 'yes';
    else if (key === 'identityagent') out.identityAgent = value;
    else if (key === 'proxycommand' && value !== 'none') out.proxyCommand = value;
    else if (key === 'proxyjump' && value !== 'none') out.proxyJump = value;
  }
  return out;
}

/** The config files the wrapper includes. */
function wrappedFiles(opts: OpenSshOptions): string[] {
  // An Include is permission-checked where `-F` is not: /dev/null (0666) or "none" means "no config", as for ssh -F.
  const none = opts.configPath === '/dev/null' || opts.configPath === 'none';
  if (none) return [];
  return opts.configPath ? [opts.configPath] : [join(opts.home ?? homedir(), '.ssh', 'config'), SYSTEM_CONFIG];
}

/** The file ssh -G reads: the real configs, then the markers. */
export function wrapperConfig(opts: OpenSshOptions): string {
  const files = wrappedFiles(opts);
  return [
    '# Written by hactl for ssh -G: the configs ssh reads, then markers for "not set"',
    ...files.map((f) => `Include "${f}"`),
    'Match all',
    `  User ${DEFAULT_USER}`,
    `  IdentityFile ${DEFAULT_IDENTITY}`,
    '',
  ].join('\n');
}

export function sshGArgs(wrapper: string, host: string, over: LookupOverrides = {}): string[] {
  return [
    '-G',
    '-F',
    wrapper,
    ...(over.user ? ['-l', over.user] : []),
    ...(over.port ? ['-p', String(over.port)] : []),
    ...(over.jump ? ['-J', over.jump] : []),
    // The host is the inventory's address: never an option, whatever it looks like.
    '--',
    host,
  ];
}

/** `what` names the run in an error: by default the host, the last argument. */
function run(
  ssh: string,
  args: string[],
  what = `ssh -G ${args.at(-1)}`,
  timeout = 10_000,
  input = '',
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      ssh,
      args,
      { timeout, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        if ((err as NodeJS.ErrnoException | null)?.code === 'ENOENT') return reject(new NoOpenSsh(`${ssh}: not found`));
        if (err) {
          const said = stderr.trim().split('\n').slice(-3).join('; ') || err.message;
          return reject(new Error(`${what}: ${said}`));
        }
        resolve(stdout);
      },
    );
    // A process that exits before reading all of its input (ssh never reads it; a failing sh may
    // not) makes the write fail with EPIPE: how it exited is what the callback reports.
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(input);
  });
}

interface Pending {
  host: string;
  over: LookupOverrides;
  resolve: (stdout: string) => void;
  reject: (err: unknown) => void;
}

/** How many `ssh -G` the shared `sh` runs at once (each takes a few milliseconds of CPU). */
const AT_ONCE = 8;
const MARK = '@@hactl-ssh-G';

/**
 * One lookup: ssh itself. Several: one `sh`, its script on stdin (no argument-size cap), that
 * runs the `ssh -G`s in AT_ONCE chains at once, each chain into a file of its own in the
 * wrapper's private directory, then prints them: after each lookup's output, a marker line
 * with its index and exit status (and, when it failed, what it said).
 */
async function runGroup(ssh: string, wrapper: string, group: readonly Pending[]): Promise<void> {
  if (group.length === 1) {
    const [q] = group;
    return run(ssh, sshGArgs(wrapper, q.host, q.over)).then(q.resolve, q.reject);
  }
  const base = `${wrapper}.${Math.random().toString(16).slice(2, 10)}`;
  const f = (k: number, ext: string) => quote(`${base}.${k}.${ext}`);
  // AT_ONCE chains in the background, lookup i in chain i % AT_ONCE; each chain runs its
  // lookups one after another into a file of its own (what ssh said on failure in another).
  const chains = Array.from({ length: Math.min(AT_ONCE, group.length) }, (_, k) => {
    const lookups = group
      .map((q, i) => ({ q, i }))
      .filter(({ i }) => i % AT_ONCE === k)
      .map(
        ({ q, i }) =>
          // Each marker on a line of its own, whether or not what came before ended one.
          `if ${sh([ssh, ...sshGArgs(wrapper, q.host, q.over)])} 2>${f(k, 'err')}; then printf '\\n${MARK} ${i} 0\\n'; ` +
          `else printf '\\n${MARK} ${i} %s\\n' "$?"; cat ${f(k, 'err')}; printf '\\n${MARK} end\\n'; fi`,
      );
    return `{\n${lookups.join('\n')}\n} >${f(k, 'out')} </dev/null &`;
  });
  const outs = chains.map((_, k) => f(k, 'out')).join(' ');
  const stdout = await run(
    'sh',
    ['-s'],
    `ssh -G of ${group.map((q) => q.host).join(', ')}`,
    10_000 + 200 * group.length,
    [...chains, 'wait', `cat ${outs}`, `rm -f ${quote(base)}.*`, ''].join('\n'),
  );
  let lines: string[] = [];
  let failed: { i: number; code: number } | undefined;
  const settled = new Set<number>();
  for (const line of stdout.split('\n')) {
    const m = line.startsWith(MARK) ? /^\S+ (\d+|end)(?: (\d+))?$/.exec(line) : null;
    if (!m) {
      lines.push(line);
      continue;
    }
    if (m[1] === 'end' && failed) {
      const q = group[failed.i];
      const said = lines.join('\n').trim().split('\n').slice(-3).join('; ');
      // sh's "not found" (127): no OpenSSH client, as spawning ssh would have said with ENOENT.
      q.reject(
        failed.code === 127
          ? new NoOpenSsh(`${ssh}: not found`)
          : new Error(`ssh -G ${q.host}: ${said || `exit ${failed.code}`}`),
      );
      settled.add(failed.i);
      failed = undefined;
    } else if (m[2] === '0') {
      group[Number(m[1])].resolve(lines.join('\n'));
      settled.add(Number(m[1]));
    } else failed = { i: Number(m[1]), code: Number(m[2]) };
    lines = [];
  }
  group.forEach((q, i) => settled.has(i) || q.reject(new Error(`ssh -G ${q.host}: no answer from the lookup`)));
}

/** The answers kept for this configuration, if it has a cache and the answers can be kept. */
async function answersKept(opts: OpenSshOptions, ssh: string): Promise<SshGAnswers | undefined> {
  if (!opts.cache) return undefined;
  const fp = await sshGFingerprint({ ssh, wrapper: wrapperConfig(opts), files: wrappedFiles(opts) }).catch(
    () => undefined,
  );
  return fp ? opts.cache.answers(fp) : undefined;
}

/**
 * A HostLookup backed by `ssh -G`. The wrapper file exists only while an ssh -G runs (lookups
 * come in one burst per run, all hosts at once), so a process killed later leaves nothing in
 * the temp dir; `close()` (and the process's exit) removes it should one be running.
 */
export function openSshLookup(opts: OpenSshOptions = {}): HostLookup & { close(): void } {
  const cache = new Map<string, Promise<HostConfig>>();
  let dir: string | undefined;
  let running = 0;
  const close = () => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
    process.off('exit', close);
  };
  const withWrapper = async <T>(fn: (file: string) => Promise<T>): Promise<T> => {
    if (!dir) {
      dir = mkdtempSync(join(tmpdir(), 'hactl-ssh-'));
      writeFileSync(join(dir, 'config'), wrapperConfig(opts), { mode: 0o600 });
      process.on('exit', close);
    }
    running++;
    try {
      return await fn(join(dir, 'config'));
    } finally {
      if (--running === 0) close();
    }
  };
  const ssh = opts.ssh ?? 'ssh';
  let queue: Pending[] = [];
  const flush = () => {
    const batch = queue;
    queue = [];
    void withWrapper((file) => runGroup(ssh, file, batch)).catch((err: unknown) => {
      for (const q of batch) q.reject(err);
    });
  };
  let kept: Promise<SshGAnswers | undefined> | undefined;
  const keptAnswers = () => (kept ??= answersKept(opts, ssh));
  const ask = (host: string, over: LookupOverrides) =>
    new Promise<string>((resolve, reject) => {
      if (queue.length === 0) setImmediate(flush);
      queue.push({ host, over, resolve, reject });
    });
  const lookup = (host: string, over: LookupOverrides = {}) => {
    const key = JSON.stringify([host, over.user, over.port, over.jump]);
    let p = cache.get(key);
    if (!p) {
      p = keptAnswers()
        .then(async (answers) => {
          const known = answers?.get(key);
          if (known !== undefined) return known;
          const answer = usedLines(await ask(host, over));
          answers?.set(key, answer);
          return answer;
        })
        .then(parseSshG);
      cache.set(key, p);
    }
    return p;
  };
  return Object.assign(lookup, { close });
}
