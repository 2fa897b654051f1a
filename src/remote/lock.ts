/**
 * The deploy lock on each host, taken in the same exec as the facts: a remote process holds
 * flock(1) on /var/lib/hactl/deploy.lock for as long as our SSH channel lives. It waits for
 * end-of-file on the stdin we hold open (a shell builtin: no process per second, which matters
 * with 50 hosts on one lab machine). When we release, or the operator's machine dies, or the
 * connection drops, sshd closes that pipe, the process exits and the kernel releases the lock;
 * a holder note left behind by a process killed outright is reported as a stale lock.
 */
import { RemoteStepError } from '../errors.js';
import type { ExecResult, Transport } from '../transport/transport.js';
import { HOST_PATHS } from './paths.js';
import { cmd, hostPath, raw, render, script, type Shell } from './script.js';
import { END_MARKER, joinSections, parseSections, splitSections, type Results, type Section } from './section.js';

export const LOCK_EXIT_HELD = 75;

export interface LockState {
  acquired: boolean;
  /** Holder note of the current holder (when refused) or of a dead one (stale). */
  holder?: string;
  stale?: string;
}

/**
 * Prints "@@lock" then "acquired" (and "stale <holder>" when a dead holder left its note), or
 * "held" and the holder's note with exit 75; runs the sections with stdin cut off, then holds
 * the lock until our stdin ends. Run it with ExecOptions.holdStdin.
 */
export function lockScript(holder: string, body: Shell, waitSeconds = 2): Shell {
  const file = hostPath(HOST_PATHS.lockFile);
  const note = hostPath(HOST_PATHS.lockHolder);
  return script(
    raw('echo @@lock'),
    // A test, not a mkdir, when the directory is there (every run but a host's first): one process less.
    cmd`{ [ -d ${hostPath(HOST_PATHS.stateDir)} ] || mkdir -p ${hostPath(HOST_PATHS.stateDir)}; } && exec 9>>${file} || exit 1`,
    cmd`if ! flock -w ${waitSeconds} 9; then echo held; cat ${note} 2>/dev/null; exit ${LOCK_EXIT_HELD}; fi`,
    cmd`if [ -s ${note} ]; then echo "stale $(cat ${note})"; fi`,
    cmd`printf '%s\\n' ${holder} > ${note}`,
    raw('echo acquired'),
    raw('{'),
    body,
    raw('} </dev/null'),
    raw('while read -r _; do :; done'),
    cmd`rm -f ${note}`,
  );
}

export function parseLock(lines: string[]): LockState {
  if (lines[0] === 'held') return { acquired: false, holder: lines.slice(1).join('\n').trim() || 'unknown holder' };
  const stale = lines.find((l) => l.startsWith('stale '))?.slice(6);
  return { acquired: lines.includes('acquired'), ...(stale ? { stale } : {}) };
}

export interface HeldLock<S extends readonly Section<unknown>[]> {
  results: Results<S>;
  stale?: string;
  release(): Promise<void>;
}

/** Takes the lock, gathers the sections under it, and keeps the lock until release(). */
export async function lockAndGather<S extends readonly Section<unknown>[]>(
  t: Transport,
  holder: string,
  sections: S,
  timeoutMs = 30_000,
): Promise<HeldLock<S>> {
  const ac = new AbortController();
  let out = '';
  let seen = false;
  let ready!: () => void;
  const factsReady = new Promise<void>((resolve) => (ready = resolve));
  const marker = `\n${END_MARKER}\n`;
  const done: Promise<ExecResult | Error> = t
    .exec(render(lockScript(holder, joinSections(sections)), t.rootPrefix), {
      signal: ac.signal,
      holdStdin: true,
      onStdout: (chunk) => {
        if (seen) return;
        // Only the new text (and a marker's length before it) can hold the marker: the facts
        // are long (every managed file, base64), and rescanning all of them per chunk added up.
        const from = Math.max(0, out.length - marker.length);
        out += chunk;
        if (out.includes(marker, from)) {
          seen = true;
          ready();
        }
      },
    })
    .catch((e: Error) => e);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
  const first = await Promise.race([factsReady.then(() => 'facts' as const), done, timeout]);
  clearTimeout(timer);
  const release = async () => {
    ac.abort();
    await done;
  };
  if (first === 'facts') {
    try {
      const names = ['lock', ...sections.map((x) => x.name)];
      const lock = parseLock(splitSections(out, names).get('lock') ?? []);
      return { results: parseSections(sections, out), ...(lock.stale ? { stale: lock.stale } : {}), release };
    } catch (e) {
      await release();
      throw new RemoteStepError(t.name, 'facts', (e as Error).message);
    }
  }
  await release();
  if (first === 'timeout') throw new RemoteStepError(t.name, 'lock', `no facts within ${timeoutMs} ms`);
  if (first instanceof Error) throw first;
  if (first.code === LOCK_EXIT_HELD) {
    const lines = first.stdout.split('\n');
    const lock = parseLock(lines.slice(lines.indexOf('@@lock') + 1));
    throw new RemoteStepError(
      t.name,
      'lock',
      `another deploy holds the lock: ${lock.holder}. Wait for it to finish; if that process is gone, its lock is released with its connection`,
    );
  }
  throw new RemoteStepError(
    t.name,
    'lock',
    `could not take the deploy lock (exit ${first.code})`,
    first.stderr,
    first.code,
  );
}
