/**
 * A recorded fake Transport for unit and cli tests: scripts are answered by rules (first match
 * wins) and every call is recorded in order, so planner and runner tests can assert what would
 * have been run on a host, without SSH.
 */
import {
  TransportError,
  type ExecOptions,
  type ExecResult,
  type Transport,
  type TransportErrorKind,
} from '../../src/transport/transport.js';

export type FakeAnswer = ExecResult | TransportError;

export interface FakeRule {
  match: RegExp | ((script: string) => boolean);
  result: FakeAnswer | ((script: string, stdin: string | Buffer | undefined) => FakeAnswer | Promise<FakeAnswer>);
  /** Use this rule at most this many times (then later rules are tried). Default: unlimited. */
  times?: number;
}

export interface FakeCall {
  script: string;
  stdin?: string | Buffer;
  /** The `root` option as the caller meant it (default true). */
  root: boolean;
  timeoutMs?: number;
}

export interface FakeOptions {
  /** Answer for scripts no rule matches. Default: throw, so unexpected commands fail the test. */
  fallback?: ExecResult;
}

export const ok = (stdout = ''): ExecResult => ({ code: 0, stdout, stderr: '' });
export const failed = (code: number, stderr = '', stdout = ''): ExecResult => ({ code, stdout, stderr });

export class FakeTransport implements Transport {
  readonly calls: FakeCall[] = [];
  closed = false;
  private readonly rules: (FakeRule & { used: number })[] = [];
  private failure?: { error: TransportError; once: boolean };

  constructor(
    readonly name: string,
    rules: FakeRule[] = [],
    private readonly opts: FakeOptions = {},
  ) {
    rules.forEach((r) => this.rules.push({ ...r, used: 0 }));
  }

  get roundTrips(): number {
    return this.calls.length;
  }

  /** Add a rule after the existing ones. */
  on(match: FakeRule['match'], result: FakeRule['result'], times?: number): this {
    this.rules.push({ match, result, times, used: 0 });
    return this;
  }

  /**
   * Answer any exec that asks for section `name` (its `echo @@name` marker) with `lines` as
   * that section's output, in the one marker protocol gather() reads.
   */
  onSection(name: string, lines: string[] | (() => string[]), times?: number): this {
    return this.on(
      (s) => s.includes(`echo @@${name}\n`),
      () => ok(`@@${name}\n${(typeof lines === 'function' ? lines() : lines).join('\n')}\n@@end\n`),
      times,
    );
  }

  /** Make every later exec (or only the next one, with once) reject with a TransportError. */
  failWith(error: TransportError | TransportErrorKind, opts: { message?: string; once?: boolean } = {}): this {
    const err =
      typeof error === 'string' ? new TransportError(this.name, error, opts.message ?? `fake ${error} failure`) : error;
    this.failure = { error: err, once: opts.once ?? false };
    return this;
  }

  /** The scripts run so far, in order. */
  scripts(): string[] {
    return this.calls.map((c) => c.script);
  }

  async exec(script: string, opts: ExecOptions = {}): Promise<ExecResult> {
    if (opts.signal?.aborted) throw opts.signal.reason;
    this.calls.push({ script, stdin: opts.stdin, root: opts.root ?? true, timeoutMs: opts.timeoutMs });
    if (this.closed) throw new TransportError(this.name, 'closed', 'exec after close()');
    if (this.failure) {
      const { error, once } = this.failure;
      if (once) this.failure = undefined;
      throw error;
    }
    const rule = this.rules.find(
      (r) =>
        (r.times === undefined || r.used < r.times) &&
        (typeof r.match === 'function' ? r.match(script) : r.match.test(script)),
    );
    if (!rule && !this.opts.fallback) throw new Error(`FakeTransport ${this.name}: no rule matches script:\n${script}`);
    let answer: FakeAnswer = this.opts.fallback as ExecResult;
    if (rule) {
      rule.used++;
      answer = typeof rule.result === 'function' ? await rule.result(script, opts.stdin) : rule.result;
    }
    if (answer instanceof TransportError) throw answer;
    if (answer.stdout) opts.onStdout?.(answer.stdout);
    if (answer.stderr) opts.onStderr?.(answer.stderr);
    return { ...answer };
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
