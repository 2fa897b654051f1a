/**
 * The ssh2 implementation of the transport seam, once connected (connect.ts): one connection
 * per host, reused for every exec; at most `maxChannels` (8) channels open at once, under
 * OpenSSH's default MaxSessions 10. No printing: every failure is a TransportError naming the
 * host and the fix.
 */
import { constants as osConstants } from 'node:os';
import { StringDecoder } from 'node:string_decoder';
import pLimit, { type LimitFunction } from 'p-limit';
import type { Client as ClientT, ClientChannel } from 'ssh2';
import { asRoot } from '../shell/quote.js';
import { routeKey, where, type SshTarget } from './target.js';
import { TransportError, type ExecOptions, type ExecResult, type Transport } from './transport.js';

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

  get cacheKey(): string {
    return routeKey(this.target);
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
