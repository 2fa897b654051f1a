/**
 * Where hactl keeps what it remembers between runs on the operator's machine, and how it
 * writes it. $HACTL_CACHE_DIR (empty: keep nothing), else $XDG_CACHE_HOME/hactl,
 * ~/Library/Caches/hactl on macOS, ~/.cache/hactl. A cache is only ever a shortcut: a missing,
 * unreadable or corrupt file means the slow way, and a file that cannot be written is left as
 * it was.
 */
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function cacheFile(
  env: NodeJS.ProcessEnv = process.env,
  platform = process.platform,
  name = 'programs.json',
): string | undefined {
  if (env.HACTL_CACHE_DIR !== undefined) return env.HACTL_CACHE_DIR ? join(env.HACTL_CACHE_DIR, name) : undefined;
  if (env.XDG_CACHE_HOME) return join(env.XDG_CACHE_HOME, 'hactl', name);
  if (!env.HOME) return undefined;
  if (platform === 'darwin') return join(env.HOME, 'Library', 'Caches', 'hactl', name);
  return join(env.HOME, '.cache', 'hactl', name);
}

/**
 * Writes the whole file by a rename (never half written), private to the user (0600, in a
 * 0700 directory). Never throws: a cache that cannot be kept is not an error.
 */
export function writeCacheFile(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    mkdirSync(join(file, '..'), { recursive: true, mode: 0o700 });
    writeFileSync(tmp, text, { mode: 0o600 });
    renameSync(tmp, file);
  } catch {
    try {
      rmSync(tmp, { force: true }); // leave no temporary file behind
    } catch {
      // nothing more to do
    }
  }
}
