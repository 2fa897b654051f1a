/**
 * Writing the inventory: an existing file is replaced only with --force or the operator's yes;
 * otherwise it is created exclusively, so a file that appears meanwhile is never clobbered.
 */
import { existsSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { HactlError, RefusedError, UsageError } from '../errors.js';
import type { Prompter } from '../cli/prompter.js';

/** Decides whether the file may be written; asks when it exists and there is someone to ask. */
export async function mayWrite(file: string, force: boolean, prompter?: Prompter): Promise<boolean> {
  if (!existsSync(file)) return false;
  if (statSync(file).isDirectory()) throw new UsageError(`${file} is a directory; give a file name with --output`);
  if (force) return true;
  if (!prompter)
    throw new RefusedError(
      `${file} already exists and was left untouched: pass --force to overwrite it, or --output to write elsewhere`,
    );
  const yes = await prompter.confirm({
    id: 'overwrite',
    message: `${file} already exists. Overwrite it?`,
    default: false,
  });
  // The operator's no: exit 1, as a declined deploy (README "Exit codes"); a refusal (2) is hactl's own.
  if (!yes) throw new HactlError(`${file} already exists and was left untouched (choose another file with --output)`);
  return true;
}

export function writeInventory(file: string, text: string, overwrite: boolean): void {
  if (!overwrite) {
    try {
      writeFileSync(file, text, { flag: 'wx', mode: 0o644 });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST')
        throw new RefusedError(
          `${file} appeared while init was running and was left untouched; run again with --force to overwrite it`,
        );
      throw new HactlError(`cannot write ${file}: ${(e as Error).message}`);
    }
    return;
  }
  const tmp = join(dirname(file), `.${basename(file)}.hactl-init-${process.pid}`);
  writeFileSync(tmp, text, { mode: 0o644 });
  renameSync(tmp, file);
}
