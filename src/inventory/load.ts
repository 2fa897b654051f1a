/** Loading: file → YAML (with positions) → schema → lint → model. Every problem at once. */
import { readFileSync, statSync } from 'node:fs';
import { LineCounter, parseDocument } from 'yaml';
import { InventoryError, Locator, type Problem } from './problems.js';
import { schemaProblems } from './schema-check.js';
import { lint } from './lint.js';
import { normalize } from './normalize.js';
import type { InventoryDoc } from './schema.js';
import type { Inventory } from './model.js';

export const MAX_INVENTORY_BYTES = 1024 * 1024;

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
  /** pass_env variables must be set (render, deploy, verify). validate only warns. */
  requireSecrets?: boolean;
}

export interface LoadResult {
  inventory?: Inventory;
  problems: Problem[];
}

function fileProblem(file: string, message: string, fix: string): Problem {
  return { severity: 'error', rule: 'file', file, line: 1, col: 1, path: '(file)', message, fix };
}

function readInventoryText(file: string): { text?: string; problem?: Problem } {
  let size: number;
  try {
    const st = statSync(file);
    if (st.isDirectory())
      return {
        problem: fileProblem(
          file,
          'is a directory, not an inventory file',
          'pass the YAML file itself, e.g. -i inventory.yaml',
        ),
      };
    size = st.size;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return {
      problem: fileProblem(
        file,
        code === 'ENOENT' ? 'file not found' : `cannot read (${code})`,
        code === 'ENOENT'
          ? 'check the path, or start from inventory.example.yaml (hactl init writes one)'
          : 'check the file permissions',
      ),
    };
  }
  if (size > MAX_INVENTORY_BYTES)
    return { problem: fileProblem(file, `is ${size} bytes; an inventory is at most 1 MiB`, 'is this the right file?') };
  try {
    return { text: readFileSync(file, 'utf8') };
  } catch (e) {
    return {
      problem: fileProblem(file, `cannot read (${(e as NodeJS.ErrnoException).code})`, 'check the file permissions'),
    };
  }
}

/** Parses and checks inventory text; `file` is used in messages only. */
export function loadInventoryText(file: string, text: string, opts: LoadOptions = {}): LoadResult {
  const env = opts.env ?? process.env;
  if (text.trim() === '') return { problems: [fileProblem(file, 'is empty', 'start from inventory.example.yaml')] };
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return {
      problems: doc.errors.map((e) => {
        const pos = lines.linePos(e.pos[0]);
        const message = e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
        return {
          severity: 'error' as const,
          rule: 'yaml',
          file,
          line: pos.line,
          col: pos.col,
          path: '(yaml)',
          message,
          fix: 'fix the YAML syntax (indentation, quotes, colons)',
        };
      }),
    };
  }
  const loc = new Locator(file, doc, lines);
  const data = doc.toJS({ maxAliasCount: 100 }) as unknown;
  if (data === null || typeof data !== 'object' || Array.isArray(data))
    return {
      problems: [
        loc.problem(
          [],
          'schema',
          'the inventory must be a mapping with a clusters: key',
          'start from inventory.example.yaml',
        ),
      ],
    };
  const problems = schemaProblems(data, loc);
  if (problems.length > 0) return { problems };
  const inv = data as InventoryDoc;
  problems.push(...lint(inv, loc, { env, requireSecrets: opts.requireSecrets ?? true }));
  problems.sort((a, b) => a.line - b.line || a.col - b.col);
  if (problems.some((p) => p.severity === 'error')) return { problems };
  return { inventory: normalize(file, inv, env), problems };
}

export function loadInventoryFile(file: string, opts: LoadOptions = {}): LoadResult {
  const { text, problem } = readInventoryText(file);
  if (problem) return { problems: [problem] };
  return loadInventoryText(file, text!, opts);
}

/** For commands: the model, or an InventoryError carrying every problem. */
export function loadInventory(file: string, opts: LoadOptions = {}): { inventory: Inventory; warnings: Problem[] } {
  const r = loadInventoryFile(file, opts);
  if (!r.inventory) throw new InventoryError(r.problems);
  return { inventory: r.inventory, warnings: r.problems.filter((p) => p.severity === 'warning') };
}
