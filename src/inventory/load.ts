/** Loading: file → YAML (with positions) → schema → lint → model. Every problem at once. */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { InventoryError, Locator, type Problem } from './problems.js';
import { schemaProblems } from './schema-check.js';
import { lint } from './lint.js';
import { normalize } from './normalize.js';
import { attachTls, loadTls } from './tls-load.js';
import { locate, readYaml } from './yaml-read.js';
import type { InventoryDoc } from './schema.js';
import type { Inventory } from './model.js';

export const MAX_INVENTORY_BYTES = 1024 * 1024;

export interface LoadOptions {
  env?: NodeJS.ProcessEnv;
  /** pass_env variables must be set (render, deploy, verify). validate only warns. */
  requireSecrets?: boolean;
  /** The time certificates are checked against. Default: now. */
  now?: Date;
  /**
   * An expired or not yet valid certificate: an error (default: validate, render and deploy
   * refuse it), or a warning for the commands that report on what is deployed (verify, status).
   */
  certificateDates?: 'error' | 'warning';
}

export interface LoadResult {
  inventory?: Inventory;
  problems: Problem[];
}

function fileProblem(file: string, message: string, fix: string): Problem {
  return { severity: 'error', rule: 'file', file, line: 1, col: 1, path: '(file)', message, fix };
}

/** Reads at most MAX_INVENTORY_BYTES + 1 bytes, so /dev/zero or a runaway pipe cannot hang us. */
function readBounded(file: string): Buffer {
  const fd = openSync(file, 'r');
  try {
    const buf = Buffer.alloc(MAX_INVENTORY_BYTES + 1);
    let n = 0;
    for (let got = -1; got !== 0 && n < buf.length; n += got) got = readSync(fd, buf, n, buf.length - n, null);
    return buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

function readProblem(file: string, e: unknown): Problem {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ENOENT')
    return fileProblem(
      file,
      'file not found',
      'check the path, or start from inventory.example.yaml (hactl init writes one)',
    );
  if (code === 'EISDIR')
    return fileProblem(
      file,
      'is a directory, not an inventory file',
      'pass the YAML file itself, e.g. -i inventory.yaml',
    );
  return fileProblem(file, `cannot read (${code ?? 'error'})`, 'check the file permissions');
}

/** Bytes → text: UTF-8 only; UTF-16 and invalid bytes are named with their place. */
function decode(file: string, buf: Buffer): { text?: string; problem?: Problem } {
  if (buf.length > MAX_INVENTORY_BYTES)
    return {
      problem: fileProblem(file, 'is larger than 1 MiB; an inventory is at most 1 MiB', 'is this the right file?'),
    };
  if ((buf[0] === 0xff && buf[1] === 0xfe) || (buf[0] === 0xfe && buf[1] === 0xff))
    return { problem: fileProblem(file, 'is UTF-16 text', 'save it as UTF-8') };
  try {
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(buf) };
  } catch {
    const lossy = buf.toString('utf8');
    const { line, col } = locate(lossy, Math.max(0, lossy.indexOf('\uFFFD')));
    const message = 'is not UTF-8 text (a binary file, or another encoding)';
    return { problem: { ...fileProblem(file, message, 'pass the inventory YAML file, saved as UTF-8'), line, col } };
  }
}

function readInventoryText(file: string): { text?: string; problem?: Problem } {
  try {
    if (statSync(file).isDirectory()) return { problem: readProblem(file, { code: 'EISDIR' }) };
    return decode(file, readBounded(file));
  } catch (e) {
    return { problem: readProblem(file, e) };
  }
}

/** Parses and checks inventory text; `file` is used in messages only. */
export function loadInventoryText(file: string, text: string, opts: LoadOptions = {}): LoadResult {
  const env = opts.env ?? process.env;
  if (text.replace(/^\uFEFF/, '').trim() === '')
    return { problems: [fileProblem(file, 'is empty', 'start from inventory.example.yaml')] };
  const read = readYaml(file, text);
  if (read.problems.length > 0) return { problems: read.problems };
  const loc = new Locator(file, read.doc, read.lines);
  const data = read.data;
  if (data === null || data === undefined)
    return { problems: [loc.problem([], 'schema', 'holds only comments', 'start from inventory.example.yaml')] };
  if (typeof data !== 'object' || Array.isArray(data))
    return {
      problems: [
        loc.problem(
          [],
          'schema',
          `is ${Array.isArray(data) ? 'a list' : 'a single value'}; the inventory must be a mapping with a clusters: key`,
          'start from inventory.example.yaml',
        ),
      ],
    };
  const problems = schemaProblems(data, loc);
  if (problems.length > 0) return { problems };
  const inv = data as InventoryDoc;
  const requireSecrets = opts.requireSecrets ?? true;
  problems.push(...lint(inv, loc, { env, requireSecrets }));
  const tls = loadTls(inv, loc, {
    baseDir: dirname(resolve(file)),
    env,
    requireSecrets,
    now: opts.now ?? new Date(),
    dateSeverity: opts.certificateDates ?? 'error',
  });
  problems.push(...tls.problems);
  problems.sort((a, b) => a.line - b.line || a.col - b.col);
  if (problems.some((p) => p.severity === 'error')) return { problems };
  return { inventory: attachTls(normalize(file, inv, env), tls.material), problems };
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
