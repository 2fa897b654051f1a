/** Inventory problems: each names file:line:column, the YAML path, what was expected, the fix. */
import type { Document, LineCounter } from 'yaml';
import { isMap, isPair, isScalar } from 'yaml';

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
      const sub = path.slice(0, n);
      let offset: number | undefined;
      if (key && n === path.length && n > 0) {
        const parent = sub.length > 1 ? this.doc.getIn(sub.slice(0, -1), true) : this.doc.contents;
        if (isMap(parent)) {
          const pair = parent.items.find(
            (it) => isPair(it) && isScalar(it.key) && it.key.value === sub[sub.length - 1],
          );
          if (pair && isScalar(pair.key) && pair.key.range) offset = pair.key.range[0];
        }
      }
      if (offset === undefined) {
        const node = sub.length === 0 ? this.doc.contents : this.doc.getIn(sub, true);
        const range = (node as { range?: [number, number, number] } | null | undefined)?.range;
        if (range) offset = range[0];
      }
      if (offset !== undefined) {
        const pos = this.lines.linePos(offset);
        return { line: pos.line, col: pos.col };
      }
    }
    return { line: 1, col: 1 };
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
export class InventoryError extends Error {
  constructor(readonly problems: Problem[]) {
    super(
      problems
        .filter((p) => p.severity === 'error')
        .map(formatProblem)
        .join('\n'),
    );
    this.name = 'InventoryError';
  }
}
