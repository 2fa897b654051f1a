/**
 * Opening an SSH connection to a resolved target (resolve-target.ts): the route to it (direct,
 * a ProxyCommand's stdio, or a tunnel through a chain of jump hosts, each hop shared by every
 * target behind it), the handshake with host keys checked against known_hosts (known-hosts.ts),
 * and the keys offered in OpenSSH's order (auth.ts).
 *
 * A connection closed or reset before the handshake completes is retried with backoff: that is
 * how sshd's MaxStartups sheds unauthenticated connections when many arrive at once (a bastion
 * in front of a fleet), and one more try a moment later gets through. Anything else (refused,
 * timed out, a host key or key that does not match) fails at once.
 */
import type { Duplex } from 'node:stream';
import ssh2, { type Client as ClientT } from 'ssh2';
import { authMethods } from './auth.js';
import { createHostVerifier, hostKeyAlgorithms, knownKeyTypes } from './known-hosts.js';
import { proxyCommand } from './proxy-command.js';
import { SshTransport } from './ssh.js';
import { routeKey, where, type SshEndpoint, type SshTarget } from './target.js';
import { TransportError } from './transport.js';

const { Client } = ssh2;

export interface ConnectOptions {
  /** Overrides every endpoint's ssh-agent socket ('' for none). Default: what the target says. */
  agentSocket?: string;
  /** Default: 5000. */
  keepaliveIntervalMs?: number;
  /** Unanswered keepalives before the connection counts as dropped. Default: 3. */
  keepaliveCountMax?: number;
  /** Channels open at once per connection. Default: 8 (OpenSSH's MaxSessions is 10). */
  maxChannels?: number;
  /** Hash host names recorded under accept-new. Default: true. */
  hashKnownHosts?: boolean;
  /** Shared jump host connections (one per hop and route, for every target behind it). */
  jumps?: JumpPool;
  /** Retries of a connection closed before its handshake. Default: 5 (backoff 0.1 s doubling, jittered). */
  handshakeRetries?: number;
  /** ssh2 protocol debug lines. */
  debug?: (line: string) => void;
}

/** Connect and authenticate one host, through its route. */
export async function connect(target: SshTarget, opts: ConnectOptions = {}): Promise<SshTransport> {
  const pool = opts.jumps ?? new JumpPool(opts);
  const { client, release } = await openWithRetries(target, pool, opts);
  return new SshTransport(target, client, opts.maxChannels, release);
}

interface Opened {
  client: ClientT;
  /** Lets go of the route (the jump host connection, the ProxyCommand) once the client is closed. */
  release: () => void;
}

/** Jump host connections shared by the targets behind them, closed when the last one lets go. */
export class JumpPool {
  private readonly open = new Map<string, { client: Promise<ClientT>; refs: number }>();

  constructor(private readonly opts: ConnectOptions = {}) {}

  async acquire(hop: SshEndpoint): Promise<{ client: ClientT; release: () => void }> {
    const key = routeKey(hop);
    let slot = this.open.get(key);
    if (!slot) {
      const opened = openWithRetries(hop, this, this.opts).then(({ client, release }) => {
        client.once('close', release);
        return client;
      });
      const entry = { client: opened, refs: 0 };
      slot = entry;
      this.open.set(key, entry);
      entry.client.then(
        (c) => c.once('close', () => this.open.get(key) === entry && this.open.delete(key)),
        () => this.open.get(key) === entry && this.open.delete(key),
      );
    }
    slot.refs++;
    const entry = slot;
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      if (--entry.refs === 0) {
        if (this.open.get(key) === entry) this.open.delete(key);
        entry.client.then(
          (c) => c.end(),
          () => {},
        );
      }
    };
    try {
      return { client: await entry.client, release };
    } catch (err) {
      release();
      throw err;
    }
  }
}

/** Marks a failure that one more try may not meet (the connection was dropped before the handshake). */
class HandshakeDropped extends TransportError {}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function openWithRetries(ep: SshEndpoint, pool: JumpPool, opts: ConnectOptions): Promise<Opened> {
  const retries = opts.handshakeRetries ?? 5;
  for (let attempt = 0; ; attempt++) {
    const route = await openRoute(ep, pool);
    try {
      const client = await openClient(ep, opts, route);
      return { client, release: route.release };
    } catch (err) {
      route.release();
      if (!(err instanceof HandshakeDropped) || attempt >= retries) throw err;
      // Jittered, so connections shed together do not come back together.
      await pause(100 * 2 ** attempt * (1 + Math.random() / 2));
    }
  }
}

interface RouteStream {
  sock?: Duplex;
  release: () => void;
  /** What the route says about a failure (the ProxyCommand's exit and stderr). */
  describe?: () => string;
}

async function openRoute(ep: SshEndpoint, pool: JumpPool): Promise<RouteStream> {
  if (!ep.via) return { release: () => {} };
  if ('command' in ep.via) {
    const proxy = proxyCommand(ep.via.command);
    return { sock: proxy.stream, release: proxy.stop, describe: proxy.describe };
  }
  const jump = await pool.acquire(ep.via.jump);
  try {
    return { sock: await forward(jump.client, ep, ep.via.jump), release: jump.release };
  } catch (err) {
    jump.release();
    throw err;
  }
}

function forward(jump: ClientT, target: SshEndpoint, via: SshEndpoint): Promise<Duplex> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () =>
        reject(
          new TransportError(
            target.name,
            'connect',
            `jump host ${where(via)} did not open a tunnel to ${target.host}:${target.port} within ${target.connectTimeoutMs} ms.`,
          ),
        ),
      target.connectTimeoutMs,
    );
    const done = (err: Error | undefined, stream?: Duplex) => {
      clearTimeout(timer);
      if (!err && stream) return resolve(stream);
      reject(
        new TransportError(
          target.name,
          'connect',
          `jump host ${where(via)} could not reach ${target.host}:${target.port} (${err?.message}); check the address as seen from the jump host and that it allows TCP forwarding (AllowTcpForwarding).`,
        ),
      );
    };
    try {
      jump.forwardOut('127.0.0.1', 0, target.host, target.port, done);
    } catch (err) {
      done(err as Error);
    }
  });
}

async function openClient(t: SshEndpoint, opts: ConnectOptions, route: RouteStream): Promise<ClientT> {
  // An unreadable file yields no preference here; the verifier then fails closed with the reason.
  const knownTypes = await knownKeyTypes(t.knownHosts, t.host, t.port).catch(() => []);
  const agent = opts.agentSocket === undefined ? t.agent : opts.agentSocket || undefined;
  const { methods, tried } = await authMethods(t, agent);
  const verifier = createHostVerifier({
    name: t.name,
    host: t.host,
    port: t.port,
    knownHosts: t.knownHosts,
    policy: t.hostKeyPolicy,
    hash: opts.hashKnownHosts,
  });
  const client = new Client();
  return new Promise<ClientT>((resolve, reject) => {
    let settled = false;
    let handshake = false;
    let agentError: Error | undefined;
    const fail = (err: TransportError) => {
      if (settled) return;
      settled = true;
      client.destroy();
      reject(err);
    };
    const dropped = (what: string) =>
      new (handshake ? TransportError : HandshakeDropped)(t.name, 'connect', `${what}${routeSays(route)}`);
    client.once('handshake', () => (handshake = true));
    client.on('error', (err: Error & { level?: string; code?: string }) => {
      if (err.level === 'agent') agentError = err;
      else if (verifier.failure()) fail(verifier.failure() as TransportError);
      else if (err.code === 'ECONNRESET' || /^Connection lost before handshake/.test(err.message))
        // ssh2's words for a close before the server's version line: how MaxStartups sheds a connection.
        fail(dropped(`${where(t)} dropped the connection before the SSH handshake (sshd MaxStartups, tcp wrappers?)`));
      else fail(connectError(t, err, tried, agentError, route));
    });
    client.once('close', () =>
      fail(verifier.failure() ?? dropped(`${where(t)} closed the connection during the SSH handshake`)),
    );
    client.once('ready', () => {
      settled = true;
      resolve(client);
    });
    try {
      client.connect({
        host: t.host,
        port: t.port,
        username: t.user,
        sock: route.sock,
        readyTimeout: t.connectTimeoutMs,
        keepaliveInterval: opts.keepaliveIntervalMs ?? 5000,
        keepaliveCountMax: opts.keepaliveCountMax ?? 3,
        hostVerifier: verifier.hostVerifier,
        algorithms: { serverHostKey: hostKeyAlgorithms(knownTypes) },
        authHandler: methods,
        debug: opts.debug,
      });
    } catch (err) {
      fail(new TransportError(t.name, 'connect', `${where(t)}: ${(err as Error).message}`));
    }
  });
}

const routeSays = (route: RouteStream) => (route.describe ? ` (${route.describe()})` : '.');

function connectError(
  t: SshEndpoint,
  err: Error & { level?: string; code?: string },
  tried: string[],
  agentError: Error | undefined,
  route: RouteStream,
): TransportError {
  const at = where(t);
  if (err.level === 'client-authentication') {
    const agentNote = agentError ? `; the agent failed: ${agentError.message}` : '';
    return new TransportError(
      t.name,
      'auth',
      `${at} accepted none of the keys offered (tried: ${tried.join('; ')}${agentNote}). Add your public key to ~${t.user}/.ssh/authorized_keys on the host, or set identity_file to the right key.`,
    );
  }
  if (err.level === 'client-timeout') {
    return new TransportError(
      t.name,
      'connect',
      `${at}: no SSH handshake within ${t.connectTimeoutMs} ms${routeSays(route).replace(/\.$/, '')}. Check the address, the port and firewalls, or raise connect_timeout.`,
    );
  }
  if (err.level === 'client-dns')
    return new TransportError(
      t.name,
      'connect',
      `cannot resolve ${t.host} (${err.message}). Check the address (or HostName in ~/.ssh/config).`,
    );
  const hints: Record<string, string> = {
    ECONNREFUSED: `${t.host}:${t.port} refused the connection: is sshd running and listening on port ${t.port}?`,
    EHOSTUNREACH: `no route to ${t.host}: is the host up and on a reachable network?`,
    ENETUNREACH: `network unreachable for ${t.host}.`,
    ETIMEDOUT: `connecting to ${t.host}:${t.port} timed out: check the address and firewalls.`,
  };
  if (err.code && hints[err.code]) return new TransportError(t.name, 'connect', hints[err.code]);
  return new TransportError(t.name, 'connect', `${at}: SSH handshake failed: ${err.message}${routeSays(route)}`);
}
