/**
 * The image cache's lock, with flock(1) on one file. A build runs as `flock -x` over its whole
 * process tree: every process of the build inherits the locked descriptor, so even the orphans
 * of a killed `hactl` hold the lock until they end, and the next build never removes a
 * directory that is still being written. lab up holds it shared while its hosts boot from the
 * images, so clean-cache (exclusive) cannot pull them away. The kernel frees it with the last
 * process, so it cannot go stale.
 */
import { spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { execa } from 'execa';
import { lockFile } from './image-plan.js';

export interface LockedRun {
  exitCode: number;
  output: string;
}

/** Runs `argv` holding the cache lock exclusively (waiting at most waitS seconds for it). */
export async function runExclusive(
  argv: string[],
  opts: { waitS: number; env?: NodeJS.ProcessEnv },
): Promise<LockedRun> {
  const file = lockFile();
  await mkdir(dirname(file), { recursive: true, mode: 0o755 });
  const r = await execa('flock', ['-x', '-w', String(opts.waitS), '-E', '75', file, ...argv], {
    reject: false,
    all: true,
    env: opts.env,
  });
  const output = String(r.all ?? '');
  if (r.exitCode === 75)
    throw new Error(
      `the image cache ${dirname(file)} stayed locked for ${opts.waitS} s (a build or a lab up holds it)`,
    );
  return { exitCode: r.exitCode ?? -1, output };
}

/** Holds the cache lock (shared or exclusive) until the returned release function is called (or this process ends). */
export async function holdLock(mode: 'shared' | 'exclusive', waitS: number): Promise<() => Promise<void>> {
  const file = lockFile();
  await mkdir(dirname(file), { recursive: true, mode: 0o755 });
  const flag = mode === 'shared' ? '-s' : '-x';
  const child = spawn('flock', [flag, '-w', String(waitS), file, 'sh', '-c', 'echo held; exec cat > /dev/null'], {
    stdio: ['pipe', 'pipe', 'ignore'],
  });
  const exited = new Promise<number>((resolve) => child.once('exit', (code) => resolve(code ?? -1)));
  const held = await new Promise<boolean>((resolve) => {
    child.stdout.once('data', () => resolve(true));
    void exited.then(() => resolve(false));
  });
  if (!held) throw new Error(`could not take the image cache lock ${file} (${mode}) within ${waitS} s`);
  return async () => {
    child.stdin.end();
    await exited;
  };
}
