/**
 * hactl's typed errors. Every error an operator can meet carries its exit code and a stable
 * code for --json, so commands decide exit codes by type, never by matching message text.
 * Exit codes (README "Exit codes"): 0 ok, 1 the operation failed, 2 usage or inventory error
 * or a refusal, 130 interrupted.
 */
export const EXIT = { ok: 0, failed: 1, usage: 2, interrupted: 130 } as const;

export type ErrorCode =
  'usage' | 'inventory' | 'refused' | 'failed' | 'remote-step' | 'transport' | 'interrupted' | 'internal';

/** An error whose message is complete and helpful: printed without a stack trace. */
export class HactlError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.failed,
    readonly code: ErrorCode = 'failed',
  ) {
    super(message);
    this.name = 'HactlError';
  }
}

/** A flag or argument that cannot work (an unknown VIP, a fault that does not exist). */
export class UsageError extends HactlError {
  constructor(message: string) {
    super(message, EXIT.usage, 'usage');
    this.name = 'UsageError';
  }
}

/** hactl declined to act: no terminal to confirm on, a file that exists without --force. */
export class RefusedError extends HactlError {
  constructor(message: string) {
    super(message, EXIT.usage, 'refused');
    this.name = 'RefusedError';
  }
}

/** Ctrl-C or SIGTERM ended the operation after its step in flight finished. */
export class InterruptedError extends HactlError {
  constructor(message = 'interrupted') {
    super(message, EXIT.interrupted, 'interrupted');
    this.name = 'InterruptedError';
  }
}

/**
 * A step on one host failed (facts, lock, apply, health). `exit` is the remote script's exit
 * code when there was one; `output` is what the host printed (secrets already masked).
 */
export class RemoteStepError extends HactlError {
  constructor(
    readonly host: string,
    readonly step: string,
    readonly detail: string,
    readonly output = '',
    readonly exit?: number,
  ) {
    super(
      `${host}: ${step}: ${detail}${output ? `\n${output.trimEnd().replace(/^/gm, '    ')}` : ''}`,
      EXIT.failed,
      'remote-step',
    );
    this.name = 'RemoteStepError';
  }
}

export type TransportErrorKind =
  | 'connect' // TCP connect/handshake failed or timed out
  | 'auth' // no key was accepted
  | 'hostkey' // unknown (strict) or changed host key, unreadable known_hosts
  | 'sudo' // sudo wants a password / not allowed
  | 'timeout' // a command took longer than its deadline
  | 'closed'; // the connection dropped mid-command

export class TransportError extends HactlError {
  constructor(
    readonly host: string,
    readonly kind: TransportErrorKind,
    message: string,
  ) {
    super(`${host}: ${message}`, EXIT.failed, 'transport');
    this.name = 'TransportError';
  }
}

/** The exit code and --json code of any error: typed errors say theirs, anything else is 1. */
export function classify(err: unknown): { exitCode: number; code: ErrorCode } {
  if (err instanceof HactlError) return { exitCode: err.exitCode, code: err.code };
  return { exitCode: EXIT.failed, code: 'internal' };
}
