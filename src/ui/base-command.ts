/**
 * Shared command plumbing: the --inventory flag, loading, and turning known errors into
 * messages and documented exit codes. Commands stay thin: parse, call the core, print.
 */
import { Command, Flags } from '@oclif/core';
import { InventoryError, formatProblem } from '../inventory/problems.js';
import { loadInventory } from '../inventory/load.js';
import type { Inventory } from '../inventory/model.js';

/** Documented exit codes (README "Exit codes"). */
export const EXIT = { ok: 0, failed: 1, usage: 2, interrupted: 130 } as const;

export const inventoryFlag = Flags.string({
  char: 'i',
  description: 'Inventory file.',
  default: 'inventory.yaml',
  env: 'HACTL_INVENTORY',
});

/** An error whose message is already complete and helpful: printed without a stack trace. */
export class UserError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.failed,
  ) {
    super(message);
    this.name = 'UserError';
  }
}

export abstract class BaseCommand extends Command {
  protected loadInventory(file: string, opts: { requireSecrets?: boolean } = {}): Inventory {
    const { inventory, warnings } = loadInventory(file, opts);
    for (const w of warnings) this.logToStderr(formatProblem(w));
    return inventory;
  }

  protected override async catch(err: Error & { exitCode?: number; oclif?: { exit?: number } }): Promise<unknown> {
    if (err instanceof InventoryError) {
      this.logToStderr(err.message);
      const n = err.problems.filter((p) => p.severity === 'error').length;
      this.logToStderr(`\n${n} problem${n === 1 ? '' : 's'} in the inventory; nothing was changed.`);
      return this.exit(EXIT.usage);
    }
    if (err instanceof UserError) {
      this.logToStderr(`hactl: ${err.message}`);
      return this.exit(err.exitCode);
    }
    return super.catch(err);
  }
}
