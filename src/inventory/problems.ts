/** Inventory problems: each names file:line:column, the YAML path, what was expected, the fix. */
import type { Document, LineCounter } from 'yaml';
import { isAlias, isMap, isPair, isScalar, isSeq } from 'yaml';
import { EXIT, HactlError } from '../errors.js';

export type PathSeg = string | number;

export interface Problem {
  severity: 'error' | 'warning';
  /** Stable rule id, e.g. schema, vrid-unique, failover-arithmetic. */
  rule: string;
  file: string;
  line: number;
  col: number;
  /** YAML path like clusters[0].vips[1].vrid */
  path: string;
  message: string;
  fix?: string;
}

export function formatPath(path: readonly PathSeg[]): string {
  let out = '';
  for (const seg of path) out += typeof seg === 'number' ? `[${seg}]` : out ? `.${seg}` : seg;
  return out || '(top level)';
}

const SHOWN_MAX = 60;

/** A value as messages show it: short (a 1 MB string is not repeated), typed, never [object Object]. */
export function showValue(v: unknown): string {
  if (v === null || v === undefined) return 'nothing';
  if (typeof v === 'string')
    return v.length > SHOWN_MAX ? `${JSON.stringify(v.slice(0, 40))}… (${v.length} characters)` : JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return 'a list';
  if (v instanceof Uint8Array) return 'binary data';
  if (v instanceof Date) return 'a date';
  return 'a mapping';
}

/** The VRRP password's place: its value is never shown, whatever is wrong with it. */
export const isSecretPath = (path: readonly PathSeg[]) => path[path.length - 1] === 'pass';

export function formatProblem(p: Problem): string {
  const where = `${p.file}:${p.line}:${p.col}`;
  const fix = p.fix ? `\n    fix: ${p.fix}` : '';
  return `${where} ${p.severity} [${p.rule}] ${p.path}: ${p.message}${fix}`;
}

/** Finds positions of YAML paths in the parsed document. */
export class Locator {
  constructor(
    readonly file: string,
    private readonly doc: Document | undefined,
    private readonly lines: LineCounter | undefined,
  ) {}

  /** Position of the value at path; with key=true, of the key itself (for unknown keys). */
  position(path: readonly PathSeg[], key = false): { line: number; col: number } {
    if (!this.doc || !this.lines) return { line: 1, col: 1 };
    // Walk up until a node exists: a missing key is reported at its parent map.
    for (let n = path.length; n >= 0; n--) {
      const offset = this.offsetOf(path.slice(0, n), key && n === path.length && n > 0);
      if (offset !== undefined) {
        const pos = this.lines.linePos(offset);
        return { line: pos.line, col: pos.col };
      }
    }
    return { line: 1, col: 1 };
  }

  /**
   * Where the node at path starts. Aliases on the way are followed to their anchor, so a bad
   * value inside an anchored block is shown where it is written; an empty value (`key:`) is
   * shown at its key.
   */
  private offsetOf(path: readonly PathSeg[], wantKey: boolean): number | undefined {
    const doc = this.doc;
    if (!doc) return undefined;
    let node: unknown = doc.contents;
    let keyNode: unknown;
    for (const seg of path) {
      if (isAlias(node)) node = node.resolve(doc);
      if (isMap(node)) {
        const pair = node.items.find((it) => isPair(it) && isScalar(it.key) && String(it.key.value) === String(seg));
        if (!pair) return undefined;
        [keyNode, node] = [pair.key, pair.value];
      } else if (isSeq(node) && typeof seg === 'number') [keyNode, node] = [undefined, node.items[seg]];
      else return undefined;
    }
    const range = (n: unknown) => (n as { range?: [number, number, number] } | null | undefined)?.range;
    // An empty value (`key:`) is a zero-length scalar after the colon: show its key instead.
    const r = range(node);
    const empty = !r || r[0] === r[1];
    const target = (wantKey || empty) && range(keyNode) ? keyNode : node;
    return range(target)?.[0];
  }

  problem(
    path: readonly PathSeg[],
    rule: string,
    message: string,
    fix?: string,
    opts: { severity?: Problem['severity']; key?: boolean } = {},
  ): Problem {
    const { line, col } = this.position(path, opts.key);
    return {
      severity: opts.severity ?? 'error',
      rule,
      file: this.file,
      line,
      col,
      path: formatPath(path),
      message,
      fix,
    };
  }
}

/** Thrown when the inventory cannot be used; carries every problem found. */
export class InventoryError extends HactlError {
  constructor(readonly problems: Problem[]) {
    super(
      problems
        .filter((p) => p.severity === 'error')
        .map(formatProblem)
        .join('\n'),
      EXIT.usage,
      'inventory',
    );
    this.name = 'InventoryError';
  }
}
