/**
 * The transport seam. Every remote action goes through this interface: the ssh2
 * implementation (connect.ts, ssh.ts) in real runs and e2e tests, a recorded fake
 * (test/helpers/fake-transport.ts) in unit and cli tests. No UI here: callers decide what to print.
 */
export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
  /** Set when the remote process died of a signal. */
  signal?: string;
}

export interface ExecOptions {
  /** Sent to the remote command's stdin, then stdin is closed. */
  stdin?: string | Buffer;
  /**
   * Keep the remote stdin open (nothing is sent) until the channel closes, so the remote side
   * sees end-of-file exactly when our channel or connection goes away (the deploy lock).
   */
  holdStdin?: boolean;
  /** Wrap the script in `sudo -n sh -c` when the target needs it. Default: true. */
  root?: boolean;
  /** Fail with TransportError(kind 'timeout') after this long. */
  timeoutMs?: number;
  /** Called with each stdout chunk as it arrives (for streaming monitors). */
  onStdout?: (chunk: string) => void;
  /** Called with each stderr chunk as it arrives. */
  onStderr?: (chunk: string) => void;
  /** Aborting closes the channel. */
  signal?: AbortSignal;
}

export interface Transport {
  /** Logical host name (inventory name). */
  readonly name: string;
  /** Run one shell script (already quoted with shell/quote.ts). The exit code decides success. */
  exec(script: string, opts?: ExecOptions): Promise<ExecResult>;
  /**
   * Test sandboxes only: the directory remote scripts treat as the host's / (their "$R").
   * Unset on every real transport, so scripts touch the real paths.
   */
  readonly rootPrefix?: string;
  /**
   * Where this transport reaches the host (user@address:port and the route there): the key of
   * what this machine remembers about the host (remote/known-programs.ts). Unset on fakes and
   * sandboxes, which then remember nothing.
   */
  readonly cacheKey?: string;
  /** Number of exec round trips so far (the benchmark reports it). */
  readonly roundTrips: number;
  close(): Promise<void>;
}

export { TransportError, type TransportErrorKind } from '../errors.js';

/**
 * How commands reach a load balancer: the SSH connector in real runs, fakes in tests. `warm`,
 * when there, starts what connecting needs ahead (the SSH code, the `ssh -G` lookups), so it
 * runs while the caller renders and plans; connecting then finds it done.
 */
export type LbConnector = ((lb: import('../inventory/model.js').LoadBalancer) => Promise<Transport>) & {
  warm?: (lbs: readonly import('../inventory/model.js').LoadBalancer[]) => Promise<void>;
};
