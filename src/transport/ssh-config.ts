/**
 * hactl's own ~/.ssh/config reader, used only when no OpenSSH client is on PATH (otherwise
 * openssh-config.ts asks `ssh -G`, which is OpenSSH itself). It honours the keywords hactl
 * connects with (HONOURED below) and reports every other keyword that applies to a host,
 * so the operator learns what was not taken into account instead of meeting a timeout.
 *
 * Semantics follow OpenSSH: options are read top to bottom and the first value obtained for a
 * key wins (IdentityFile accumulates; ProxyCommand and ProxyJump exclude each other, first one
 * wins); `Host` takes several patterns with `*`, `?` and `!` negation, matched against the name
 * given (the inventory address). `Include` is supported (relative paths under ~/.ssh, `*`/`?` in
 * the last path component). `Match` blocks cannot be evaluated here: they are reported, and their
 * options ignored.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { matchPattern, matchPatternList } from './known-hosts.js';

/** One option line, with the Host pattern lists that must all match for it to apply. */
export interface SshConfigOption {
  key: string;
  /** As written in the file, for messages. */
  keyword: string;
  value: string;
  when: string[][];
  file: string;
  line: number;
}

export interface SshConfig {
  options: SshConfigOption[];
  /** `Match` lines (file:line): not evaluated, their blocks ignored. */
  matchBlocks: string[];
}

/** What ~/.ssh/config says about one host, as `ssh -G` prints it (values as written, tokens not expanded except HostName's). */
export interface HostConfig {
  hostName?: string;
  /** Undefined when neither the command line (-l) nor the config set one. */
  user?: string;
  port?: number;
  /** Only the ones the config names: ssh's built-in defaults are not listed. */
  identityFiles: string[];
  identitiesOnly: boolean;
  identityAgent?: string;
  proxyCommand?: string;
  proxyJump?: string;
  /** Keywords that applied to the host and were not taken into account (built-in reader only). */
  ignored: string[];
}

/** What the command line adds, as for `ssh -l USER -p PORT -J JUMP host`: it wins over the config. */
export interface LookupOverrides {
  user?: string;
  port?: number;
  jump?: string;
}

/** How the resolver asks about one host: `ssh -G` or this reader. */
export type HostLookup = (host: string, over?: LookupOverrides) => Promise<HostConfig>;

/** The keywords hactl connects with; every other one is reported when it applies. */
const HONOURED = new Set([
  'hostname',
  'user',
  'port',
  'identityfile',
  'identitiesonly',
  'identityagent',
  'proxycommand',
  'proxyjump',
]);
/** Keywords that shape the file itself, not a connection. */
const STRUCTURE = new Set(['host', 'match', 'include']);

export function expandHome(path: string, home = homedir()): string {
  if (path === '~') return home;
  if (path.startsWith('~/')) return join(home, path.slice(2));
  return path;
}

/** Split `Key value`, `Key=value`, `Key "quoted value"`. */
export function splitLine(raw: string): { key: string; keyword: string; args: string[]; rest: string } | undefined {
  const line = raw.trim();
  if (line === '' || line.startsWith('#')) return undefined;
  const m = /^([A-Za-z][A-Za-z0-9]*)\s*(?:=\s*|\s+)(.*)$/.exec(line);
  if (!m) return { key: line.toLowerCase(), keyword: line, args: [], rest: '' };
  const args: string[] = [];
  for (const t of m[2].matchAll(/"([^"]*)"|(\S+)/g)) {
    if (t[2]?.startsWith('#')) break;
    args.push(t[1] ?? t[2]);
  }
  return { key: m[1].toLowerCase(), keyword: m[1], args, rest: m[2] };
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
  const out: SshConfig = { options: [], matchBlocks: [] };
  let when: string[][] | undefined = outer;
  text.split('\n').forEach((raw, i) => {
    const parsed = splitLine(raw);
    if (!parsed) return;
    const { key, keyword, args, rest } = parsed;
    if (key === 'host') when = [...outer, args];
    else if (key === 'match') {
      out.matchBlocks.push(`${file}:${i + 1}`);
      when = undefined; // not evaluated: the block's options never apply
    } else if (when === undefined) return;
    else if (key === 'include') {
      if (depth >= 16) throw new Error(`${file}:${i + 1}: Include nested too deeply`);
      for (const pattern of args) {
        for (const f of globFiles(expandHome(pattern, home), sshDir)) {
          const inner = parseSshConfig(readFileSync(f, 'utf8'), f, opts, when, depth + 1);
          out.options.push(...inner.options);
          out.matchBlocks.push(...inner.matchBlocks);
        }
      }
    } else if (args.length > 0) {
      // ProxyCommand is the rest of the line, verbatim, for the shell (as OpenSSH keeps it).
      const value =
        key === 'proxycommand' ? rest : ['identityfile', 'proxyjump'].includes(key) ? args.join(' ') : args[0];
      out.options.push({ key, keyword, value, when, file, line: i + 1 });
    }
  });
  return out;
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
  if (!existsSync(file)) return { options: [], matchBlocks: [] };
  return parseSshConfig(readFileSync(file, 'utf8'), file, opts);
}

const yes = (v: string) => ['yes', 'true'].includes(v.toLowerCase());
const none = (v: string | undefined) => (v === undefined || v.toLowerCase() === 'none' ? undefined : v);

/** Options that apply to `host`, first obtained value wins (IdentityFile accumulates). */
export function lookupSshConfig(config: SshConfig, host: string, over: LookupOverrides = {}): HostConfig {
  const out: HostConfig = { identityFiles: [], identitiesOnly: false, ignored: [] };
  let identitiesOnly: boolean | undefined;
  const seen = new Set<string>();
  let proxy: { key: string; value: string } | undefined = over.jump
    ? { key: 'proxyjump', value: over.jump }
    : undefined;
  for (const o of config.options) {
    if (!o.when.every((patterns) => matchPatternList(patterns, host))) continue;
    if (o.key === 'identityfile') out.identityFiles.push(o.value);
    else if (o.key === 'hostname') out.hostName ??= o.value;
    else if (o.key === 'user') out.user ??= o.value;
    else if (o.key === 'identityagent') out.identityAgent ??= o.value;
    else if (o.key === 'identitiesonly') identitiesOnly ??= yes(o.value);
    else if (o.key === 'proxycommand' || o.key === 'proxyjump') proxy ??= o;
    else if (o.key === 'port') out.port ??= configPort(o);
    else if (!STRUCTURE.has(o.key) && !HONOURED.has(o.key) && !seen.has(o.key)) {
      seen.add(o.key);
      out.ignored.push(o.keyword);
    }
  }
  out.ignored.push(...config.matchBlocks.map((m) => `Match (${m}, not evaluated)`));
  if (over.user) out.user = over.user;
  if (over.port) out.port = over.port;
  out.identitiesOnly = identitiesOnly ?? false;
  if (out.hostName) out.hostName = out.hostName.replace(/%(%|h)/g, (_, t: string) => (t === 'h' ? host : '%'));
  const value = none(proxy?.value);
  if (value && proxy?.key === 'proxycommand') out.proxyCommand = value;
  if (value && proxy?.key === 'proxyjump') out.proxyJump = value;
  return out;
}

function configPort(o: SshConfigOption): number {
  const port = Number(o.value);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`${o.file}:${o.line}: bad Port ${o.value}`);
  return port;
}

/** The built-in reader as a HostLookup (the config is read once, on first use). */
export function builtinLookup(path?: string, opts: ParseOptions = {}): HostLookup {
  let config: SshConfig | undefined;
  return async (host, over) => lookupSshConfig((config ??= loadSshConfig(path, opts)), host, over);
}

export interface JumpSpec {
  user?: string;
  host: string;
  port?: number;
}

/** Parse one hop, `[user@]host[:port]` (also `[v6]:port` and `ssh://user@host:port`), like ssh -J. */
export function parseJumpHost(spec: string): JumpSpec {
  let s = spec.trim().replace(/^ssh:\/\//, '');
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
  if (!host || user === '' || host.includes(',')) throw new Error(`jump host "${spec}": expected [user@]host[:port]`);
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

/**
 * A ProxyJump chain `a,b,c`, as ssh -J reads it: c is the hop next to the target, reached
 * through `a,b` (the rest); a, the first, is reached as its own config says.
 */
export function splitJumpChain(chain: string): { hop: JumpSpec; rest?: string } {
  const hops = chain.split(',').map((h) => h.trim());
  if (hops.some((h) => h === '')) throw new Error(`jump hosts "${chain}": an empty hop`);
  const last = hops.pop() as string;
  return { hop: parseJumpHost(last), ...(hops.length > 0 ? { rest: hops.join(',') } : {}) };
}
