/**
 * The per-host connect function commands use: inventory ssh settings + ~/.ssh/config → ssh2.
 * ~/.ssh/config is read as OpenSSH reads it (`ssh -G`, once per host and run) when an OpenSSH
 * client is on PATH, else by hactl's own reader, which then says what it ignored.
 */
import type { LoadBalancer } from '../inventory/model.js';
import type { LbConnector } from '../transport/transport.js';
import type { JumpPool } from '../transport/connect.js';
import { NoOpenSsh, openSshLookup } from '../transport/openssh-config.js';
import { resolveTarget, type ResolveInput } from '../transport/resolve-target.js';
import { builtinLookup, type HostLookup } from '../transport/ssh-config.js';
import type { SshGCache } from '../transport/ssh-g-cache.js';
import type { SshTarget } from '../transport/target.js';

export interface ConnectorOptions {
  /** Read only this file, as `ssh -F` does. Default: ~/.ssh/config (and the system config). */
  sshConfigPath?: string;
  /** The OpenSSH client asked with -G. Default: ssh from PATH. */
  ssh?: string;
  /** Notes for the operator (what the built-in reader ignored). Default: none. */
  warn?: (message: string) => void;
  /** ssh -G answers kept between runs. Default: none. */
  cache?: SshGCache;
}

/** ssh -G while there is an OpenSSH client; from the first ENOENT on, hactl's own reader. */
export function systemLookup(opts: ConnectorOptions = {}): HostLookup & { readonly builtin: boolean } {
  const openssh = openSshLookup({ ssh: opts.ssh, configPath: opts.sshConfigPath, cache: opts.cache });
  const builtin = builtinLookup(opts.sshConfigPath);
  let useBuiltin = false;
  const lookup = async (host: string, over?: Parameters<HostLookup>[1]) => {
    if (!useBuiltin) {
      try {
        return await openssh(host, over);
      } catch (err) {
        if (!(err instanceof NoOpenSsh)) throw err;
        useBuiltin = true;
        openssh.close();
      }
    }
    return builtin(host, over);
  };
  return Object.defineProperty(lookup, 'builtin', { get: () => useBuiltin }) as HostLookup & { builtin: boolean };
}

/** Resolves load balancers to targets, reporting what the built-in reader ignored (once per host). */
export function targetResolver(opts: ConnectorOptions = {}): (input: ResolveInput) => Promise<SshTarget> {
  const lookup = systemLookup(opts);
  const said = new Set<string>();
  return async (input) => {
    const { target, ignored } = await resolveTarget(input, lookup);
    for (const [name, keywords] of ignored) {
      if (said.has(name)) continue;
      said.add(name);
      opts.warn?.(
        `${name}: no OpenSSH client on PATH, so hactl read ~/.ssh/config itself and did not take into account: ${keywords.join(', ')}`,
      );
    }
    return target;
  };
}

export function sshConnector(opts: ConnectorOptions = {}): LbConnector {
  const resolver = targetResolver(opts);
  // ssh2 (about 25 ms to load) is imported once the ssh -G lookups are under way, so the two
  // overlap: the lookups run in their own processes while this one loads the SSH client.
  let client: Promise<{ connect: typeof import('../transport/connect.js').connect; jumps: JumpPool }> | undefined;
  const sshClient = () =>
    (client ??= import('../transport/connect.js').then((m) => ({ connect: m.connect, jumps: new m.JumpPool() })));
  // One resolution per load balancer and run, whether warm() or the connect asked first.
  const targets = new Map<string, Promise<SshTarget>>();
  const resolve = (lb: LoadBalancer) => {
    const input = { name: lb.name, address: lb.address, ssh: lb.ssh };
    const key = JSON.stringify(input);
    let p = targets.get(key);
    if (!p) {
      p = resolver(input);
      // A failure is the connect's to report; until one asks, it is not an unhandled rejection.
      p.catch(() => undefined);
      targets.set(key, p);
    }
    return p;
  };
  const connector: LbConnector = async (lb) => {
    const target = resolve(lb);
    const { connect, jumps } = await sshClient();
    return connect(await target, { jumps });
  };
  connector.warm = async (lbs) => {
    for (const lb of lbs) void resolve(lb);
    // Let the lookups start (their ssh -G processes are spawned from queued callbacks) before
    // the caller goes on with synchronous work, then load ssh2 while they run.
    await new Promise((r) => setImmediate(r));
    void sshClient().catch(() => undefined);
  };
  return connector;
}
