/**
 * ~/.ssh/config as OpenSSH itself reads it: `ssh -G host` prints the options in force for a host
 * after every Host and Match block, Include, token in HostName, and the system config
 * (/etc/ssh/ssh_config), without connecting (about 5-10 ms a host). One run per host and
 * command-line overrides, cached for the connector's lifetime, a few at a time.
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
import pLimit from 'p-limit';
import type { HostConfig, HostLookup, LookupOverrides } from './ssh-config.js';

const DEFAULT_USER = 'hactl-default-user';
const DEFAULT_IDENTITY = '/hactl-default-identity';
const SYSTEM_CONFIG = '/etc/ssh/ssh_config';

export interface OpenSshOptions {
  /** The ssh binary. Default: ssh (from PATH). */
  ssh?: string;
  /** Read only this file, as `ssh -F` does (no system config). Default: ~/.ssh/config, then /etc/ssh/ssh_config. */
  configPath?: string;
  home?: string;
}

/** No OpenSSH client to ask (spawning `ssh` failed with ENOENT). */
export class NoOpenSsh extends Error {
  override name = 'NoOpenSsh';
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

/** The file ssh -G reads: the real configs, then the markers. */
export function wrapperConfig(opts: OpenSshOptions): string {
  const files = opts.configPath ? [opts.configPath] : [join(opts.home ?? homedir(), '.ssh', 'config'), SYSTEM_CONFIG];
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

function run(ssh: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(ssh, args, { timeout: 10_000, encoding: 'utf8' }, (err, stdout, stderr) => {
      if ((err as NodeJS.ErrnoException | null)?.code === 'ENOENT') return reject(new NoOpenSsh(`${ssh}: not found`));
      if (err) {
        const said = stderr.trim().split('\n').slice(-3).join('; ') || err.message;
        return reject(new Error(`ssh -G ${args.at(-1)}: ${said}`));
      }
      resolve(stdout);
    }).stdin?.end();
  });
}

/**
 * A HostLookup backed by `ssh -G`. The wrapper file exists only while an ssh -G runs (lookups
 * come in one burst per run, all hosts at once), so a process killed later leaves nothing in
 * the temp dir; `close()` (and the process's exit) removes it should one be running.
 */
export function openSshLookup(opts: OpenSshOptions = {}): HostLookup & { close(): void } {
  const cache = new Map<string, Promise<HostConfig>>();
  const limit = pLimit(8);
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
  const lookup = (host: string, over: LookupOverrides = {}) => {
    const key = JSON.stringify([host, over.user, over.port, over.jump]);
    let p = cache.get(key);
    if (!p) {
      p = limit(() => withWrapper((file) => run(opts.ssh ?? 'ssh', sshGArgs(file, host, over)))).then(parseSshG);
      cache.set(key, p);
    }
    return p;
  };
  return Object.assign(lookup, { close });
}
