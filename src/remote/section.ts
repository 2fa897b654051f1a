/**
 * One protocol for every remote read. A Section is a script plus a pure parser of the lines
 * it prints; gather() joins any set of sections into one exec (one round trip), prints a
 * `@@<name>` marker line before each section's output and `@@end` after the last, and hands
 * each block to its parser. A section never exits and keeps its shell variables to its own
 * prefix, so sections compose in any order.
 */
import { RemoteStepError } from '../errors.js';
import type { ExecOptions, Transport } from '../transport/transport.js';
import { raw, render, script, type Shell } from './script.js';

export interface Section<T> {
  readonly name: string;
  /** Runs before every section's script in the same exec: background work `script` collects. */
  readonly before?: Shell;
  readonly script: Shell;
  parse(lines: string[]): T;
}

export type Results<S extends readonly Section<unknown>[]> = {
  [K in keyof S]: S[K] extends Section<infer T> ? T : never;
};

export const END_MARKER = '@@end';

export function section<T>(name: string, body: Shell, parse: (lines: string[]) => T, before?: Shell): Section<T> {
  if (!/^[a-z][a-z0-9-]*$/.test(name)) throw new Error(`section name ${name}: lower-case letters, digits, -`);
  return { name, script: body, parse, ...(before ? { before } : {}) };
}

/** The shell text of a set of sections, in order, ending with the end marker. */
export function joinSections(sections: readonly Section<unknown>[]): Shell {
  const names = new Set<string>();
  for (const s of sections) {
    if (names.has(s.name)) throw new Error(`section ${s.name} requested twice`);
    names.add(s.name);
  }
  return script(
    ...sections.map((s) => s.before),
    ...sections.flatMap((s) => [raw(`echo @@${s.name}`), s.script]),
    raw(`echo ${END_MARKER}`),
  );
}

/** Output → lines per requested section. Throws when the end marker never came (a cut-off run). */
export function splitSections(output: string, names: readonly string[]): Map<string, string[]> {
  const wanted = new Set(names);
  const out = new Map<string, string[]>();
  let current: string[] | undefined;
  let ended = false;
  for (const line of output.split('\n')) {
    if (line === END_MARKER) {
      ended = true;
      break;
    }
    const name = line.startsWith('@@') ? line.slice(2) : undefined;
    if (name !== undefined && wanted.has(name)) {
      current = [];
      out.set(name, current);
    } else current?.push(line);
  }
  if (!ended) throw new Error('the output is incomplete (the script did not reach its end marker)');
  return out;
}

export function parseSections<S extends readonly Section<unknown>[]>(sections: S, output: string): Results<S> {
  const blocks = splitSections(
    output,
    sections.map((s) => s.name),
  );
  return sections.map((s) => {
    const lines = blocks.get(s.name);
    if (!lines) throw new Error(`section ${s.name} printed nothing (not even its marker)`);
    try {
      return s.parse(lines);
    } catch (e) {
      throw new Error(`section ${s.name}: ${(e as Error).message}`);
    }
  }) as Results<S>;
}

export interface GatherOptions extends Pick<ExecOptions, 'timeoutMs' | 'signal' | 'root'> {
  /** Names the step in errors ("facts", "status", "verify"). */
  step: string;
}

/** Runs the sections on a host in one exec and parses each block. */
export async function gather<S extends readonly Section<unknown>[]>(
  t: Transport,
  sections: S,
  opts: GatherOptions,
): Promise<Results<S>> {
  const { step, ...exec } = opts;
  const r = await t.exec(render(joinSections(sections), t.rootPrefix), exec);
  if (r.code !== 0) throw new RemoteStepError(t.name, step, `the script failed (exit ${r.code})`, r.stderr, r.code);
  try {
    return parseSections(sections, r.stdout);
  } catch (e) {
    throw new RemoteStepError(t.name, step, (e as Error).message, r.stderr);
  }
}
