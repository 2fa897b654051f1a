/**
 * ~/.ssh/config, the parts hactl honours (HostName, User, Port, IdentityFile, ProxyJump), and
 * resolveTarget: inventory ssh settings, then ~/.ssh/config, then defaults → one SshTarget.
 *
 * Semantics follow OpenSSH: options are read top to bottom and the first value obtained for a
 * key wins (IdentityFile accumulates); `Host` takes several patterns with `*`, `?` and `!`
 * negation, matched against the name given (the inventory address). `Include` is supported
 * (relative paths under ~/.ssh, `*`/`?` in the last path component). `Match` blocks are not
 * evaluated: their options are ignored. IdentityFile tokens: ~ %d %h %n %p %r %u %%; others
 * (%C %i %j %k %l %L) are refused with an error rather than guessed.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { homedir, userInfo } from 'node:os';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { DEFAULTS, type HostKeyPolicy, type SshTarget } from '../inventory/model.js';
import { matchPattern, matchPatternList } from './known-hosts.js';

/** One option line, with the Host pattern lists that must all match for it to apply. */
export interface SshConfigOption {
  key: string;
  value: string;
  when: string[][];
  file: string;
  line: number;
}

export interface SshConfig {
  options: SshConfigOption[];
}

/** What ~/.ssh/config says about one host (values as written, tokens not yet expanded). */
export interface SshConfigHost {
  hostName?: string;
  user?: string;
  port?: number;
  identityFiles: string[];
  proxyJump?: string;
}

const KEYS = new Set(['hostname', 'user', 'port', 'identityfile', 'proxyjump']);

export function expandHome(path: string, home = homedir()): string {
  if (path === '~') return home;
  if (path.startsWith('~/')) return join(home, path.slice(2));
  return path;
}

/** Split `Key value`, `Key=value`, `Key "quoted value"`. */
function splitLine(raw: string): { key: string; args: string[] } | undefined {
  const line = raw.trim();
  if (line === '' || line.startsWith('#')) return undefined;
  const m = /^([A-Za-z][A-Za-z0-9]*)\s*(?:=\s*|\s+)(.*)$/.exec(line);
  if (!m) return { key: line.toLowerCase(), args: [] };
  const args: string[] = [];
  for (const t of m[2].matchAll(/"([^"]*)"|(\S+)/g)) {
    if (t[2]?.startsWith('#')) break;
    args.push(t[1] ?? t[2]);
  }
  return { key: m[1].toLowerCase(), args };
}

export interface ParseOptions {
  /** Directory relative Include paths resolve against. Default: ~/.ssh. */
  sshDir?: string;
  home?: string;
}

/** Parse config text. `Include` lines read further files from disk. */
export function parseSshConfig(
  text: string,
  file = '<config>',
  opts: ParseOptions = {},
  outer: string[][] = [],
  depth = 0,
): SshConfig {
  const home = opts.home ?? homedir();
  const sshDir = opts.sshDir ?? join(home, '.ssh');
  const options: SshConfigOption[] = [];
  let when: string[][] | undefined = outer;
  text.split('\n').forEach((raw, i) => {
    const parsed = splitLine(raw);
    if (!parsed) return;
    const { key, args } = parsed;
    if (key === 'host') when = [...outer, args];
    else if (key === 'match')
      when = undefined; // not evaluated: the block's options never apply
    else if (when === undefined) return;
    else if (key === 'include') {
      if (depth >= 16) throw new Error(`${file}:${i + 1}: Include nested too deeply`);
      for (const pattern of args) {
        for (const f of globFiles(expandHome(pattern, home), sshDir)) {
          options.push(...parseSshConfig(readFileSync(f, 'utf8'), f, opts, when, depth + 1).options);
        }
      }
    } else if (KEYS.has(key) && args.length > 0) {
      options.push({
        key,
        value: key === 'identityfile' || key === 'proxyjump' ? args.join(' ') : args[0],
        when,
        file,
        line: i + 1,
      });
    }
  });
  return { options };
}

function globFiles(pattern: string, sshDir: string): string[] {
  const abs = isAbsolute(pattern) ? pattern : join(sshDir, pattern);
  const dir = dirname(abs);
  const base = basename(abs);
  if (!/[*?]/.test(base)) return existsSync(abs) ? [abs] : [];
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => matchPattern(base, f))
    .sort()
    .map((f) => join(dir, f));
}

/** Load ~/.ssh/config (or `path`); a missing file is an empty config. */
export function loadSshConfig(path?: string, opts: ParseOptions = {}): SshConfig {
  const file = path ?? join(opts.home ?? homedir(), '.ssh', 'config');
  if (!existsSync(file)) return { options: [] };
  return parseSshConfig(readFileSync(file, 'utf8'), file, opts);
}

/** Options that apply to `host`, first obtained value wins (IdentityFile accumulates). */
export function lookupSshConfig(config: SshConfig, host: string): SshConfigHost {
  const out: SshConfigHost = { identityFiles: [] };
  for (const o of config.options) {
    if (!o.when.every((patterns) => matchPatternList(patterns, host))) continue;
    if (o.key === 'identityfile') out.identityFiles.push(o.value);
    else if (o.key === 'hostname') out.hostName ??= o.value;
    else if (o.key === 'user') out.user ??= o.value;
    else if (o.key === 'proxyjump') out.proxyJump ??= o.value;
    else if (o.key === 'port' && out.port === undefined) {
      const port = Number(o.value);
      if (!Number.isInteger(port) || port < 1 || port > 65535)
        throw new Error(`${o.file}:${o.line}: bad Port ${o.value}`);
      out.port = port;
    }
  }
  return out;
}

export interface JumpSpec {
  user?: string;
  host: string;
  port?: number;
}

/** Parse `[user@]host[:port]` (also `[v6]:port` and `ssh://user@host:port`), like ssh -J. */
export function parseJumpHost(spec: string): JumpSpec {
  let s = spec.trim().replace(/^ssh:\/\//, '');
  if (s.includes(',')) throw new Error(`jump host "${spec}": chains of jump hosts are not supported; use one bastion`);
  let user: string | undefined;
  const at = s.lastIndexOf('@');
  if (at >= 0) {
    user = s.slice(0, at);
    s = s.slice(at + 1);
  }
  let host = s;
  let portText: string | undefined;
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(s);
  if (bracket) [, host, portText] = bracket;
  else if ((s.match(/:/g) ?? []).length === 1) [host, portText] = s.split(':');
  if (!host || user === '') throw new Error(`jump host "${spec}": expected [user@]host[:port]`);
  const out: JumpSpec = { host };
  if (user) out.user = user;
  if (portText !== undefined) {
    const port = Number(portText);
    if (!/^\d+$/.test(portText) || port < 1 || port > 65535)
      throw new Error(`jump host "${spec}": bad port ${portText}`);
    out.port = port;
  }
  return out;
}

/** The inventory's `ssh:` keys (top-level defaults merged with the host's overrides). */
export interface SshSettings {
  user?: string;
  port?: number;
  identity_file?: string;
  use_agent?: boolean;
  known_hosts?: string;
  host_key_policy?: HostKeyPolicy;
  jump_host?: string;
  sudo?: boolean;
  /** Seconds. */
  connect_timeout?: number;
}

export interface ResolveInput {
  /** Logical name (inventory host name), used in messages. */
  name: string;
  /** Where to connect, as written in the inventory; looked up in ~/.ssh/config like `ssh <address>`. */
  address: string;
  ssh?: SshSettings;
}

export interface ResolveEnv {
  home?: string;
  localUser?: string;
}

/** Inventory values win over ~/.ssh/config, which wins over defaults. */
export function resolveTarget(input: ResolveInput, config: SshConfig, env: ResolveEnv = {}): SshTarget {
  const home = env.home ?? homedir();
  const localUser = env.localUser ?? userInfo().username;
  const inv = input.ssh ?? {};
  const cfg = lookupSshConfig(config, input.address);
  const host = cfg.hostName
    ? expandTokens(cfg.hostName, { h: input.address, n: input.address }, 'HostName')
    : input.address;
  const port = inv.port ?? cfg.port ?? DEFAULTS.sshPort;
  const user = inv.user ?? cfg.user ?? DEFAULTS.sshUser;
  const tokens = { d: home, h: host, n: input.address, p: String(port), r: user, u: localUser };
  const identityFile = inv.identity_file
    ? expandHome(inv.identity_file, home)
    : cfg.identityFiles[0] && expandHome(expandTokens(cfg.identityFiles[0], tokens, 'IdentityFile'), home);
  const base = {
    useAgent: inv.use_agent ?? true,
    knownHosts: expandHome(inv.known_hosts ?? DEFAULTS.knownHosts, home),
    hostKeyPolicy: inv.host_key_policy ?? DEFAULTS.hostKeyPolicy,
    connectTimeoutMs: Math.round((inv.connect_timeout ?? DEFAULTS.connectTimeoutS) * 1000),
  };
  const target: SshTarget = { name: input.name, host, port, user, ...base, sudo: inv.sudo ?? user !== 'root' };
  if (identityFile) target.identityFile = identityFile;
  const jumpSpec =
    inv.jump_host ?? (cfg.proxyJump && cfg.proxyJump.toLowerCase() !== 'none' ? cfg.proxyJump : undefined);
  if (jumpSpec) {
    const j = parseJumpHost(jumpSpec);
    // The bastion is itself looked up in ~/.ssh/config, as ssh -J does.
    const jc = lookupSshConfig(config, j.host);
    const jHost = jc.hostName ? expandTokens(jc.hostName, { h: j.host, n: j.host }, 'HostName') : j.host;
    const jPort = j.port ?? jc.port ?? DEFAULTS.sshPort;
    const jUser = j.user ?? jc.user ?? user;
    const jTokens = { d: home, h: jHost, n: j.host, p: String(jPort), r: jUser, u: localUser };
    const jIdentity = jc.identityFiles[0]
      ? expandHome(expandTokens(jc.identityFiles[0], jTokens, 'IdentityFile'), home)
      : identityFile;
    target.jump = {
      name: `${j.host} (jump host for ${input.name})`,
      host: jHost,
      port: jPort,
      user: jUser,
      ...base,
      sudo: false,
    };
    if (jIdentity) target.jump.identityFile = jIdentity;
  }
  return target;
}

function expandTokens(value: string, tokens: Record<string, string>, key: string): string {
  return value.replace(/%(.)/g, (all, t: string) => {
    if (t === '%') return '%';
    const v = tokens[t];
    if (v === undefined)
      throw new Error(
        `~/.ssh/config: ${key} token %${t} is not supported by hactl (supported: ${Object.keys(tokens)
          .map((k) => `%${k}`)
          .join(' ')} %%)`,
      );
    return v;
  });
}
