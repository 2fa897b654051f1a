/**
 * What every hactl command shares: the --inventory flag, loading it, the command context,
 * asking for confirmation, Ctrl-C handling, and one way to finish. Commands stay thin: parse,
 * call the core, print.
 *
 * The output contract: with --json exactly one JSON document goes to stdout, in every case
 * (success, a failed check, an inventory or usage error, a refusal, an interrupt); human text
 * goes to stderr and is never silenced. Exit codes come from the result or the error's type
 * (src/errors.ts), never from its message.
 */
import { Command, Errors, Flags } from '@oclif/core';
import { EXIT, HactlError, InterruptedError, RefusedError, classify } from '../errors.js';
import { loadInventory, type LoadOptions } from '../inventory/load.js';
import type { Inventory } from '../inventory/model.js';
import { InventoryError, formatProblem, type Problem } from '../inventory/problems.js';
import { commandContext, type CommandContext } from './context.js';
import { attachProbeKey } from './probe-key.js';

export { EXIT, HactlError };

export const inventoryFlag = Flags.string({
  char: 'i',
  description: 'Inventory file.',
  default: 'inventory.yaml',
  env: 'HACTL_INVENTORY',
});

/** The top level of every --json document on failure. */
export interface JsonError {
  ok: false;
  error: { code: string; message: string; problems?: Problem[] };
}

export abstract class BaseCommand extends Command {
  private context?: CommandContext;

  protected async ctx(): Promise<CommandContext> {
    this.context ??= await commandContext();
    return this.context;
  }

  protected async loadInventory(
    file: string,
    opts: Pick<LoadOptions, 'requireSecrets' | 'certificateDates'> = {},
  ): Promise<Inventory> {
    const { env } = await this.ctx();
    const { inventory, warnings } = loadInventory(file, { ...opts, env });
    // A command that needs no secret (verify, status) does not warn that one is unset: cron would mail it.
    const shown = opts.requireSecrets === false ? warnings.filter((w) => w.rule !== 'auth-env') : warnings;
    for (const w of shown) this.logToStderr(formatProblem(w));
    // Commands that render configuration (they need the secrets) may make the key; readers only read it.
    attachProbeKey(inventory, env, { create: opts.requireSecrets !== false });
    return inventory;
  }

  /** Human text: always to stderr, also under --json (stdout then holds only the document). */
  override logToStderr(message = ''): void {
    process.stderr.write(`${message}\n`);
  }

  /** A terminal to ask on: both ends interactive and not --json. */
  protected async interactive(): Promise<boolean> {
    const { isTTY } = await this.ctx();
    return isTTY.stdin && isTTY.stdout && !this.jsonEnabled();
  }

  /**
   * Asks before a change; without a terminal (or with --json) refuses, naming the flag that
   * skips the question. `show` is printed first (to stderr), so the operator sees what is asked.
   */
  protected async confirm(message: string, show: string, refusal: string): Promise<boolean> {
    if (!(await this.interactive())) throw new RefusedError(refusal);
    this.logToStderr(show);
    return (await this.ctx()).prompter().confirm({ id: 'confirm', message, default: false });
  }

  /**
   * Runs `fn` with an AbortSignal that Ctrl-C and SIGTERM trip: the core finishes the step in
   * flight (a host's transaction, restoring a fault) and stops. A second signal is reported
   * but still waits: leaving a host half-changed is worse than waiting a second.
   */
  protected async interruptible<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const ac = new AbortController();
    let count = 0;
    const off = (await this.ctx()).onInterrupt((sig) => {
      count++;
      this.logToStderr(
        count === 1
          ? `\n${sig}: stopping after the step in flight (hosts stay on their old or new configuration)…`
          : `${sig} again: still finishing the step in flight so no host is left half-changed…`,
      );
      ac.abort(new InterruptedError(`interrupted by ${sig}`));
    });
    try {
      return await fn(ac.signal);
    } finally {
      off();
    }
  }

  /**
   * The one way to end a command that produced a result: the exit code is set here and the
   * result returned (oclif prints it once under --json). `exitCode` 0 for success.
   */
  protected finish<T extends { ok: boolean; message?: string }>(result: T, exitCode: number): T {
    if (exitCode === EXIT.ok) return result;
    process.exitCode = exitCode;
    if ('error' in result) return result;
    const code = exitCode === EXIT.interrupted ? 'interrupted' : exitCode === EXIT.usage ? 'usage' : 'failed';
    return { ...result, error: { code, message: result.message ?? 'failed' } };
  }

  override toErrorJson(err: unknown): JsonError {
    const { code } = errorCode(err);
    const message = err instanceof Error ? plainMessage(err) : String(err);
    return {
      ok: false,
      error: { code, message, ...(err instanceof InventoryError ? { problems: err.problems } : {}) },
    };
  }

  protected override async catch(err: Error & { exitCode?: number; oclif?: { exit?: number } }): Promise<unknown> {
    const { exitCode } = errorCode(err);
    process.exitCode = exitCode;
    if (this.jsonEnabled()) this.logJson(this.toErrorJson(err));
    if (err instanceof InventoryError) {
      const n = err.problems.filter((p) => p.severity === 'error').length;
      this.logToStderr(`${err.message}\n\n${n} problem${n === 1 ? '' : 's'} in the inventory; nothing was changed.`);
    } else if (err instanceof HactlError || err instanceof Errors.CLIError) {
      this.logToStderr(`hactl: ${plainMessage(err)}`);
    } else {
      // Not one of ours: a bug. Show where, so it can be reported.
      this.logToStderr(`hactl: internal error: ${err.stack ?? err.message}`);
    }
    return undefined;
  }
}

/** oclif's own errors (unknown flag, missing argument) are usage errors; ours say their code. */
function errorCode(err: unknown): { exitCode: number; code: string } {
  if (err instanceof HactlError) return classify(err);
  if (err instanceof Errors.CLIError) {
    const exit = (err as Errors.CLIError & { oclif?: { exit?: number } }).oclif?.exit;
    return { exitCode: exit === undefined || exit === 2 ? EXIT.usage : exit, code: 'usage' };
  }
  return classify(err);
}

function plainMessage(err: Error): string {
  return err.message.replace(/\s*See more help with --help\s*$/, '');
}
