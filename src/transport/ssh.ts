/**
 * The ssh2 implementation of the transport seam: one connection per host, reused for every
 * exec; at most `maxChannels` (8) channels open at once, under OpenSSH's default MaxSessions 10;
 * host keys checked against known_hosts (known-hosts.ts); optional jump host through
 * `forwardOut`. No printing: every failure is a TransportError naming the host and the fix.
 */
import { readFile } from 'node:fs/promises';
import { constants as osConstants } from 'node:os';
import { StringDecoder } from 'node:string_decoder';
import type { Duplex } from 'node:stream';
import pLimit, { type LimitFunction } from 'p-limit';
import ssh2, {
  type AgentAuthMethod,
  type Client as ClientT,
  type ClientChannel,
  type ParsedKey,
  type PublicKeyAuthMethod,
} from 'ssh2';
import type { SshTarget } from '../inventory/model.js';
import { asRoot } from '../shell/quote.js';
import { createHostVerifier, hostKeyAlgorithms, knownKeyTypes } from './known-hosts.js';
import { expandHome } from './ssh-config.js';
import { TransportError, type ExecOptions, type ExecResult, type Transport } from './transport.js';

const { Client, utils } = ssh2;

export interface ConnectOptions {
  /** ssh-agent socket. Default: $SSH_AUTH_SOCK. */
  agentSocket?: string;
  /** Default: 5000. */
  keepaliveIntervalMs?: number;
  /** Unanswered keepalives before the connection counts as dropped. Default: 3. */
  keepaliveCountMax?: number;
  /** Channels open at once per connection. Default: 8 (OpenSSH's MaxSessions is 10). */
  maxChannels?: number;
  /** Hash host names recorded under accept-new. Default: true. */
  hashKnownHosts?: boolean;
  /** Keys tried when the target names no identity file, like ssh. Default: ~/.ssh/id_{ed25519,ecdsa,rsa}. */
  defaultIdentityFiles?: string[];
  /** Shared jump host connections (one per jump host for every target behind it). */
  jumps?: JumpPool;
  /** ssh2 protocol debug lines. */
  debug?: (line: string) => void;
}

type Endpoint = Omit<SshTarget, 'jump' | 'sudo'>;
type AuthMethod = PublicKeyAuthMethod | AgentAuthMethod;
const DEFAULT_IDENTITIES = ['~/.ssh/id_ed25519', '~/.ssh/id_ecdsa', '~/.ssh/id_rsa'];

const where = (t: Endpoint) => `${t.user}@${t.host}:${t.port}`;

/** The text sent to the host: root scripts go through `sudo -n` when the target needs it. */
export function remoteCommand(script: string, root: boolean, sudo: boolean): string {
  return root ? asRoot(script, sudo) : script;
}

/**
 * Recognise sudo refusing to run a wrapped script (`sudo -n` never prompts). Matched on stderr:
 * exit 1 with "sudo: a password is required", "sudo: a terminal is required…",
 * "<user> is not in the sudoers file" or "Sorry, user <user> is not allowed to execute…";
 * exit 127 with "sudo: not found" / "sudo: command not found".
 */
export function sudoFailure(result: ExecResult, user: string): string | undefined {
  const fix =
    `hactl runs commands as root through \`sudo -n\`, which never prompts. Give ${user} passwordless sudo ` +
    `(e.g. /etc/sudoers.d/hactl containing: ${user} ALL=(root) NOPASSWD: ALL) or connect as root (user: root).`;
  const line = (re: RegExp) => re.exec(result.stderr)?.[0].trim();
  if (result.code === 1) {
    const said =
      line(/^.*sudo: a password is required.*$/m) ??
      line(/^.*sudo: a terminal is required.*$/m) ??
      line(/^.*is not in the sudoers file.*$/m) ??
      line(/^.*Sorry, user \S+ is not allowed to execute.*$/m);
    if (said) return `sudo refused to run the command as root ("${said}"). ${fix}`;
  }
  if (result.code === 127 && /sudo: (command )?not found/.test(result.stderr)) {
    return `sudo is not installed on the host, and ${user} is not root. Install sudo or connect as root (user: root).`;
  }
  return undefined;
}

export class SshTransport implements Transport {
  roundTrips = 0;
  private readonly limit: LimitFunction;
  private readonly pending = new Set<(err: TransportError) => void>();
  private closedError?: TransportError;
  private lastError?: Error;
  private closing?: Promise<void>;

  constructor(
    readonly target: SshTarget,
    private readonly client: ClientT,
    private readonly maxChannels = 8,
    private readonly onClosed: () => void = () => {},
  ) {
    this.limit = pLimit(maxChannels);
    client.on('error', (err) => (this.lastError = err));
    client.on('close', () => {
      const reason = this.lastError ? ` (${this.lastError.message})` : '';
      this.shut(
        new TransportError(
          target.name,
          'closed',
          `the connection to ${where(target)} was lost${reason}; a command in flight may or may not have completed on the host.`,
        ),
      );
      this.onClosed();
    });
  }

  get name(): string {
    return this.target.name;
  }

  get closed(): boolean {
    return this.closedError !== undefined;
  }

  exec(script: string, opts: ExecOptions = {}): Promise<ExecResult> {
    const root = opts.root ?? true;
    const command = remoteCommand(script, root, this.target.sudo);
    return new Promise((resolve, reject) => {
      void this.limit(() => this.run(command, root && this.target.sudo, opts, resolve, reject));
    });
  }

  /** One channel. Settles the caller's promise; the returned promise ends when the channel is gone, freeing the slot. */
  private run(
    command: string,
    sudo: boolean,
    opts: ExecOptions,
    resolve: (r: ExecResult) => void,
    reject: (e: unknown) => void,
  ): Promise<void> {
    if (opts.signal?.aborted) return Promise.resolve(reject(opts.signal.reason));
    if (this.closedError) return Promise.resolve(reject(this.closedError));
    this.roundTrips++;
    const name = this.target.name;
    return new Promise<void>((slotFree) => {
      let channel: ClientChannel | undefined;
      let settled = false;
      let timer: NodeJS.Timeout | undefined;
      const settle = (err: unknown, result?: ExecResult) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        opts.signal?.removeEventListener('abort', onAbort);
        this.pending.delete(onDrop);
        if (err === undefined) return resolve(result as ExecResult);
        reject(err);
        if (channel) stopChannel(channel);
      };
      const onDrop = (err: TransportError) => {
        settle(err);
        slotFree();
      };
      const onAbort = () => settle(opts.signal?.reason);
      this.pending.add(onDrop);
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      this.openChannel(
        command,
        () => settled,
        (err, ch) => {
          if (err || !ch) {
            settle(err);
            return slotFree();
          }
          // Listeners go on synchronously: a fast command's output, exit status and close can
          // arrive in the same packet batch as the exec reply.
          channel = ch;
          ch.on('error', () => {
            // surfaced through 'close' without an exit status
          });
          if (settled) {
            ch.once('close', () => slotFree());
            return stopChannel(ch);
          }
          // The clock starts when the channel opens: waiting for a free channel does not count.
          if (opts.timeoutMs !== undefined) {
            const firstLine = command.split('\n')[0].slice(0, 120);
            timer = setTimeout(
              () =>
                settle(
                  new TransportError(
                    name,
                    'timeout',
                    `a command did not finish within ${opts.timeoutMs} ms and was stopped: ${firstLine}`,
                  ),
                ),
              opts.timeoutMs,
            );
          }
          const out: Buffer[] = [];
          const errOut: Buffer[] = [];
          const collect = (chunks: Buffer[], listener?: (chunk: string) => void) => {
            const decoder = new StringDecoder('utf8');
            return (b: Buffer) => {
              chunks.push(b);
              const text = listener && !settled ? decoder.write(b) : '';
              try {
                if (text) listener?.(text);
              } catch (listenerError) {
                settle(listenerError);
              }
            };
          };
          ch.on('data', collect(out, opts.onStdout));
          ch.stderr.on('data', collect(errOut, opts.onStderr));
          // ssh2 passes the exit status to 'close': (code) or (null, signal); nothing if none was sent.
          ch.on('close', (code?: number | null, signal?: string) => {
            slotFree();
            if (code === undefined)
              return settle(
                this.closedError ??
                  new TransportError(
                    name,
                    'closed',
                    `${where(this.target)} closed the channel without an exit status.`,
                  ),
              );
            const exit = code !== null ? { code } : { code: 128 + signalNumber(signal), signal };
            const result: ExecResult = {
              ...exit,
              stdout: Buffer.concat(out).toString('utf8'),
              stderr: Buffer.concat(errOut).toString('utf8'),
            };
            const sudoError = sudo ? sudoFailure(result, this.target.user) : undefined;
            settle(sudoError ? new TransportError(name, 'sudo', sudoError) : undefined, result);
          });
          if (!opts.holdStdin) ch.end(opts.stdin);
        },
      );
    });
  }

  /**
   * Open a session channel. sshd frees a closed session only after processing our CLOSE, so a
   * new channel sent right behind it can be refused although we never have more than
   * maxChannels open: retry that with backoff.
   */
  private openChannel(
    command: string,
    abandoned: () => boolean,
    done: (err: unknown, ch?: ClientChannel) => void,
    attempt = 0,
  ): void {
    const failed = (err: Error & { reason?: unknown }) => {
      if (this.closedError) return done(this.closedError);
      // OpenSSH answers a session over MaxSessions with "open failed", reason 2 (connect failed).
      const refused = err.reason === 1 || err.reason === 2;
      if (!refused || attempt >= CHANNEL_RETRIES || abandoned()) {
        return done(
          new TransportError(
            this.target.name,
            'closed',
            `${where(this.target)} refused a new session channel (${err.message}); is the server's MaxSessions below ${this.maxChannels}?`,
          ),
        );
      }
      setTimeout(() => this.openChannel(command, abandoned, done, attempt + 1), 10 * 2 ** attempt);
    };
    try {
      this.client.exec(command, (err, ch) => (err ? failed(err) : done(undefined, ch)));
    } catch (err) {
      failed(err as Error);
    }
  }

  private shut(err: TransportError): void {
    if (this.closedError) return;
    this.closedError = err;
    for (const drop of [...this.pending]) drop(err);
  }

  close(): Promise<void> {
    this.closing ??= new Promise<void>((done) => {
      const wasOpen = !this.closedError;
      this.shut(new TransportError(this.target.name, 'closed', 'the transport was closed'));
      if (!wasOpen) return done();
      const force = setTimeout(() => {
        this.client.destroy();
        done();
      }, 2000);
      this.client.once('close', () => {
        clearTimeout(force);
        done();
      });
      this.client.end();
    });
    return this.closing;
  }
}

const CHANNEL_RETRIES = 6; // 10 ms doubling: ~0.6 s in all

function stopChannel(ch: ClientChannel): void {
  try {
    ch.signal('TERM');
    ch.close();
  } catch {
    // the channel is already gone
  }
}

function signalNumber(signal: string | undefined): number {
  const n = signal ? (osConstants.signals as Record<string, number>)[`SIG${signal.replace(/^SIG/, '')}`] : undefined;
  return n ?? 0;
}

/** Connect and authenticate one host (through its jump host, if any). */
export async function connect(target: SshTarget, opts: ConnectOptions = {}): Promise<SshTransport> {
  const pool = opts.jumps ?? new JumpPool(opts);
  let jump: { client: ClientT; release: () => void } | undefined;
  try {
    if (target.jump) jump = await pool.acquire(target.jump);
    const sock = jump ? await forward(jump.client, target) : undefined;
    const client = await openClient(target, opts, sock);
    return new SshTransport(target, client, opts.maxChannels, () => jump?.release());
  } catch (err) {
    jump?.release();
    throw err;
  }
}

/** Jump host connections shared by the targets behind them, closed when the last one lets go. */
export class JumpPool {
  private readonly open = new Map<string, { client: Promise<ClientT>; refs: number }>();

  constructor(private readonly opts: ConnectOptions = {}) {}

  async acquire(jump: Endpoint): Promise<{ client: ClientT; release: () => void }> {
    const key = where(jump);
    let slot = this.open.get(key);
    if (!slot) {
      const entry = { client: openClient(jump, this.opts), refs: 0 };
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

function forward(jump: ClientT, target: SshTarget): Promise<Duplex> {
  const via = target.jump as Endpoint;
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

async function openClient(t: Endpoint, opts: ConnectOptions, sock?: Duplex): Promise<ClientT> {
  // An unreadable file yields no preference here; the verifier then fails closed with the reason.
  const knownHosts = expandHome(t.knownHosts);
  const knownTypes = await knownKeyTypes(knownHosts, t.host, t.port).catch(() => []);
  const { methods, tried } = await authMethods(t, opts);
  const verifier = createHostVerifier({
    name: t.name,
    host: t.host,
    port: t.port,
    knownHosts,
    policy: t.hostKeyPolicy,
    hash: opts.hashKnownHosts,
  });
  const client = new Client();
  return new Promise<ClientT>((resolve, reject) => {
    let settled = false;
    let agentError: Error | undefined;
    const fail = (err: TransportError) => {
      if (settled) return;
      settled = true;
      client.destroy();
      reject(err);
    };
    client.on('error', (err: Error & { level?: string }) => {
      if (err.level === 'agent') agentError = err;
      else fail(verifier.failure() ?? connectError(t, err, tried, agentError));
    });
    client.once('close', () =>
      fail(
        verifier.failure() ??
          new TransportError(t.name, 'connect', `${where(t)} closed the connection during the SSH handshake.`),
      ),
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
        sock,
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

/** Identity file first (an agent with many keys can exhaust MaxAuthTries before it), then the agent. */
async function authMethods(t: Endpoint, opts: ConnectOptions): Promise<{ methods: AuthMethod[]; tried: string[] }> {
  const agent = t.useAgent ? (opts.agentSocket ?? process.env.SSH_AUTH_SOCK) : undefined;
  const methods: AuthMethod[] = [];
  const tried: string[] = [];
  const files = t.identityFile ? [t.identityFile] : (opts.defaultIdentityFiles ?? DEFAULT_IDENTITIES);
  for (const file of files.map((f) => expandHome(f))) {
    let data: Buffer;
    try {
      data = await readFile(file);
    } catch (err) {
      if (!t.identityFile) continue; // default keys are optional, as with ssh
      throw new TransportError(
        t.name,
        'auth',
        `cannot read identity file ${file} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); fix identity_file (or IdentityFile in ~/.ssh/config).`,
      );
    }
    const key = utils.parseKey(data);
    if (key instanceof Error) {
      const encrypted = /passphrase|encrypted/i.test(key.message);
      if (encrypted && agent) {
        tried.push(`identity file ${file} skipped: it has a passphrase (load it with ssh-add ${file})`);
        continue;
      }
      if (!t.identityFile) continue;
      throw new TransportError(
        t.name,
        'auth',
        encrypted
          ? `identity file ${file} has a passphrase and no ssh-agent is available (${t.useAgent ? 'SSH_AUTH_SOCK is not set' : 'use_agent is false'}). hactl never prompts: start an agent and run ssh-add ${file}, or use a key without a passphrase.`
          : `cannot parse identity file ${file}: ${key.message}.`,
      );
    }
    methods.push({ type: 'publickey', username: t.user, key: (Array.isArray(key) ? key[0] : key) as ParsedKey });
    tried.push(`identity file ${file}`);
  }
  if (agent) {
    methods.push({ type: 'agent', username: t.user, agent });
    tried.push(`ssh-agent at ${agent}`);
  }
  if (methods.length === 0) {
    throw new TransportError(
      t.name,
      'auth',
      `no key to offer ${where(t)}: set identity_file, or start ssh-agent with your key loaded (SSH_AUTH_SOCK).${tried.length ? ` (${tried.join('; ')})` : ''}`,
    );
  }
  return { methods, tried };
}

function connectError(
  t: Endpoint,
  err: Error & { level?: string; code?: string },
  tried: string[],
  agentError?: Error,
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
      `${at}: no SSH handshake within ${t.connectTimeoutMs} ms. Check the address, the port and firewalls, or raise connect_timeout.`,
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
    ECONNRESET: `${at} reset the connection during the handshake (sshd MaxStartups, tcp wrappers or a firewall?).`,
  };
  if (err.code && hints[err.code]) return new TransportError(t.name, 'connect', hints[err.code]);
  return new TransportError(t.name, 'connect', `${at}: SSH handshake failed: ${err.message}`);
}
