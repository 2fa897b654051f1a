/**
 * Runs an oclif command class in-process, as bin/run.js would, with a test command context
 * (fake hosts, no terminal unless asked): returns the exit code, stdout, stderr and, when
 * stdout is one JSON document, that document.
 */
import { jest } from '@jest/globals';
import type { Command } from '@oclif/core';
import { setCommandContext, type CommandContext } from '../../src/cli/context.js';
import { ROOT } from './inventory.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout parsed, when it is exactly one JSON document. */
  json?: Record<string, unknown>;
}

type Runnable = { run(argv?: string[], opts?: string): Promise<unknown> } & (abstract new (...a: never[]) => Command);

export async function runCommand(
  cmd: Runnable,
  argv: string[],
  context: Partial<CommandContext> = {},
): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const spies = [
    jest.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void (stdout += `${a.join(' ')}\n`)),
    jest.spyOn(console, 'error').mockImplementation((...a: unknown[]) => void (stderr += `${a.join(' ')}\n`)),
    jest.spyOn(process.stdout, 'write').mockImplementation((c: string | Uint8Array) => ((stdout += String(c)), true)),
    jest.spyOn(process.stderr, 'write').mockImplementation((c: string | Uint8Array) => ((stderr += String(c)), true)),
  ];
  setCommandContext({ isTTY: { stdin: false, stdout: false }, onInterrupt: () => () => undefined, ...context });
  process.exitCode = undefined;
  let code: number;
  try {
    await cmd.run(argv, ROOT);
    code = Number(process.exitCode ?? 0);
  } catch (e) {
    const exit = (e as { oclif?: { exit?: number } }).oclif?.exit;
    if (exit === undefined) throw e;
    code = exit;
  } finally {
    for (const s of spies) s.mockRestore();
    setCommandContext(undefined);
    process.exitCode = undefined;
  }
  let json: Record<string, unknown> | undefined;
  try {
    json = JSON.parse(stdout) as Record<string, unknown>;
  } catch {
    json = undefined;
  }
  // Node's own warnings (jest runs with --experimental-vm-modules) are not the command's output.
  stderr = stderr.replace(/^\(node:\d+\) ExperimentalWarning:.*\n(?:\(Use `node --trace-warnings.*\n)?/gm, '');
  return { code, stdout, stderr, ...(json ? { json } : {}) };
}
