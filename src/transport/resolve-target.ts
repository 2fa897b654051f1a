/**
 * One SshTarget per load balancer: the inventory's `ssh:` settings, then ~/.ssh/config (as
 * `ssh -G` reports it, or hactl's own reader without an OpenSSH client), then hactl's defaults.
 *
 * Precedence, per setting:
 * - user, port, jump host: the inventory, then the config, then root / 22 / none. They are passed
 *   to ssh -G as -l, -p and -J, so Match blocks and tokens see the same values ssh would.
 * - keys: the inventory's identity_file alone (like ssh -i, but replacing the config's), else
 *   every IdentityFile of the config, else ~/.ssh/id_rsa, id_ecdsa, id_ed25519 (ssh's order).
 *   Agent keys are ordered against them as ssh does (auth.ts).
 * - HostName, IdentitiesOnly, IdentityAgent, ProxyCommand: the config only; use_agent: false
 *   turns the agent off whatever IdentityAgent says.
 * - known_hosts, host_key_policy, connect_timeout, sudo: the inventory only (hactl checks host
 *   keys its own way, stricter than StrictHostKeyChecking).
 * A jump host is resolved like `ssh -J` does: each hop is looked up as its own Host, its user
 * defaulting to the load balancer's and its keys to the load balancer's when the config names none.
 */
import { homedir, hostname, userInfo } from 'node:os';
import { TransportError } from '../errors.js';
import { DEFAULTS, type HostKeyPolicy } from '../inventory/model.js';
import { expandHome, splitJumpChain, type HostConfig, type HostLookup, type JumpSpec } from './ssh-config.js';
import type { IdentityFile, Route, SshEndpoint, SshTarget } from './target.js';

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
  localHost?: string;
  uid?: number;
  /** For SSH_AUTH_SOCK and IdentityAgent $VAR. Default: process.env. */
  env?: NodeJS.ProcessEnv;
}

/** ssh's default keys, in its order, less the kinds ssh2 cannot use (security keys, DSA, XMSS). */
const DEFAULT_IDENTITIES = ['id_rsa', 'id_ecdsa', 'id_ed25519'];
const MAX_HOPS = 8;

/** Everything a hop inherits from its load balancer. */
interface Inherited {
  name: string;
  env: Required<ResolveEnv>;
  lookup: HostLookup;
  user: string;
  identityFiles: IdentityFile[];
  useAgent: boolean;
  common: Pick<SshEndpoint, 'knownHosts' | 'hostKeyPolicy' | 'connectTimeoutMs'>;
  /** Keywords the built-in reader ignored, per host name, for the caller to report. */
  ignored: Map<string, string[]>;
}

export interface Resolved {
  target: SshTarget;
  /** Host (or hop) name → keywords of ~/.ssh/config that were not taken into account (built-in reader only). */
  ignored: Map<string, string[]>;
}

export async function resolveTarget(input: ResolveInput, lookup: HostLookup, e: ResolveEnv = {}): Promise<Resolved> {
  const env = fullEnv(e);
  const inv = input.ssh ?? {};
  const cfg = await ask(lookup, input.name, input.address, { user: inv.user, port: inv.port, jump: inv.jump_host });
  const host = cfg.hostName ?? input.address;
  const port = cfg.port ?? DEFAULTS.sshPort;
  const user = cfg.user ?? DEFAULTS.sshUser;
  const t = tokens(env, { h: host, n: input.address, p: String(port), r: user });
  const identityFiles = inv.identity_file
    ? [{ path: expandHome(inv.identity_file, env.home), required: true }]
    : (configuredKeys(cfg, t, env, input.name) ??
      DEFAULT_IDENTITIES.map((f) => ({ path: `${env.home}/.ssh/${f}`, required: false })));
  const useAgent = inv.use_agent ?? true;
  const common = {
    knownHosts: expandHome(inv.known_hosts ?? DEFAULTS.knownHosts, env.home),
    hostKeyPolicy: inv.host_key_policy ?? DEFAULTS.hostKeyPolicy,
    connectTimeoutMs: Math.round((inv.connect_timeout ?? DEFAULTS.connectTimeoutS) * 1000),
  };
  const ignored = new Map<string, string[]>();
  if (cfg.ignored.length > 0) ignored.set(input.name, cfg.ignored);
  const inherited: Inherited = { name: input.name, env, lookup, user, identityFiles, useAgent, common, ignored };
  const target: SshTarget = {
    name: input.name,
    host,
    port,
    user,
    identityFiles,
    identitiesOnly: cfg.identitiesOnly,
    ...agentOf(useAgent, cfg.identityAgent, t, env, input.name),
    ...common,
    sudo: inv.sudo ?? user !== 'root',
  };
  const via = await route(cfg, t, inherited, 0);
  return { target: via ? { ...target, via } : target, ignored };
}

/** Lookup errors (a config ssh refuses, a bad Port) name the host and are typed. */
async function ask(lookup: HostLookup, name: string, host: string, over: Parameters<HostLookup>[1]) {
  try {
    return await lookup(host, over);
  } catch (err) {
    throw new TransportError(name, 'connect', `~/.ssh/config: ${(err as Error).message}`);
  }
}

async function route(cfg: HostConfig, t: Tokens, inh: Inherited, depth: number): Promise<Route | undefined> {
  if (cfg.proxyJump) {
    if (depth >= MAX_HOPS)
      throw new TransportError(inh.name, 'connect', `more than ${MAX_HOPS} jump hosts in a row: is ProxyJump a loop?`);
    const { hop, rest } = parseChain(cfg.proxyJump, inh.name);
    return { jump: await resolveHop(hop, rest, inh, depth + 1) };
  }
  if (cfg.proxyCommand) return { command: expandTokens(cfg.proxyCommand, pick(t, 'hnpr'), 'ProxyCommand', inh.name) };
  return undefined;
}

function parseChain(chain: string, name: string) {
  try {
    return splitJumpChain(chain);
  } catch (err) {
    throw new TransportError(name, 'connect', (err as Error).message);
  }
}

async function resolveHop(spec: JumpSpec, rest: string | undefined, inh: Inherited, depth: number) {
  const name = `${spec.host} (jump host for ${inh.name})`;
  const cfg = await ask(inh.lookup, name, spec.host, { user: spec.user, port: spec.port, jump: rest });
  if (cfg.ignored.length > 0) inh.ignored.set(name, cfg.ignored);
  const host = cfg.hostName ?? spec.host;
  const port = cfg.port ?? DEFAULTS.sshPort;
  const user = cfg.user ?? inh.user;
  const t = tokens(inh.env, { h: host, n: spec.host, p: String(port), r: user });
  const hop: SshEndpoint = {
    name,
    host,
    port,
    user,
    identityFiles: configuredKeys(cfg, t, inh.env, name) ?? inh.identityFiles,
    identitiesOnly: cfg.identitiesOnly,
    ...agentOf(inh.useAgent, cfg.identityAgent, t, inh.env, name),
    ...inh.common,
  };
  const via = await route(cfg, t, inh, depth);
  return via ? { ...hop, via } : hop;
}

function configuredKeys(
  cfg: HostConfig,
  t: Tokens,
  env: Required<ResolveEnv>,
  name: string,
): IdentityFile[] | undefined {
  if (cfg.identityFiles.length === 0) return undefined;
  return cfg.identityFiles.map((f) => ({
    path: expandHome(expandTokens(expandEnv(f, env.env), t, 'IdentityFile', name), env.home),
    required: false,
  }));
}

/** IdentityAgent: unset or SSH_AUTH_SOCK means the environment's agent; none, no agent. */
function agentOf(
  useAgent: boolean,
  identityAgent: string | undefined,
  t: Tokens,
  env: Required<ResolveEnv>,
  name: string,
) {
  if (!useAgent || identityAgent?.toLowerCase() === 'none') return {};
  let socket: string | undefined;
  if (identityAgent === undefined || identityAgent === 'SSH_AUTH_SOCK') socket = env.env.SSH_AUTH_SOCK;
  else if (identityAgent.startsWith('$')) socket = env.env[identityAgent.slice(1)];
  else socket = expandHome(expandTokens(expandEnv(identityAgent, env.env), t, 'IdentityAgent', name), env.home);
  return socket ? { agent: socket } : {};
}

type Tokens = Record<string, string>;

/** ssh_config(5) TOKENS that hactl can know; %C is left out because its hash differs between OpenSSH versions. */
function tokens(env: Required<ResolveEnv>, host: { h: string; n: string; p: string; r: string }): Tokens {
  return {
    ...host,
    d: env.home,
    u: env.localUser,
    l: env.localHost,
    L: env.localHost.split('.')[0],
    i: String(env.uid),
    k: host.n,
  };
}

const pick = (t: Tokens, keys: string) => Object.fromEntries([...keys].map((k) => [k, t[k]]));

function expandTokens(value: string, t: Tokens, key: string, name: string): string {
  return value.replace(/%(.)/g, (_all, c: string) => {
    if (c === '%') return '%';
    const v = t[c];
    if (v === undefined) {
      const known = Object.keys(t)
        .map((k) => `%${k}`)
        .join(' ');
      const message = `~/.ssh/config: ${key} token %${c} is not supported by hactl (supported: ${known} %%)`;
      throw new TransportError(name, 'connect', message);
    }
    return v;
  });
}

/** `${VAR}` in IdentityFile and IdentityAgent, as OpenSSH 8.4+ expands it. */
function expandEnv(value: string, env: NodeJS.ProcessEnv): string {
  return value.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_all, v: string) => env[v] ?? '');
}

function fullEnv(e: ResolveEnv): Required<ResolveEnv> {
  const info = e.localUser && e.uid !== undefined ? undefined : localAccount();
  return {
    home: e.home ?? homedir(),
    localUser: e.localUser ?? info?.username ?? process.env.USER ?? 'unknown',
    localHost: e.localHost ?? hostname(),
    uid: e.uid ?? info?.uid ?? process.getuid?.() ?? 0,
    env: e.env ?? process.env,
  };
}

/** userInfo() throws for a uid without a passwd entry (some containers): %u then comes from $USER. */
function localAccount(): { username: string; uid: number } | undefined {
  try {
    return userInfo();
  } catch {
    return undefined;
  }
}
