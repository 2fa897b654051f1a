/**
 * YAML text → a document with positions, or located problems; never a stack trace, never a
 * hang. The limits, each ending in a problem at file:line:col:
 * - no control characters (a binary file, a pasted escape) and no NUL;
 * - one document;
 * - nesting at most MAX_DEPTH levels (an inventory needs about 8); yaml itself stops at its
 *   stack's depth with RESOURCE_EXHAUSTION, also reported here;
 * - aliases expand at most MAX_ALIAS_COUNT nodes (yaml's maxAliasCount: billion laughs);
 * - duplicate keys are found in linear time (yaml's uniqueKeys compares every pair of keys,
 *   15 s for a mapping of 50 000 keys);
 * - merge keys (<<) are refused: YAML 1.2 has none, and hactl has its own defaults.
 */
import {
  CST,
  Parser,
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  parseDocument,
  type Document,
  type YAMLError,
} from 'yaml';
import type { Problem } from './problems.js';

export const MAX_DEPTH = 32;
export const MAX_ALIAS_COUNT = 100;
/** Structural problems past this many are summed up in one. */
const MAX_PROBLEMS = 100;

type At = (offset: number) => { line: number; col: number };

function problem(file: string, at: { line: number; col: number }, message: string, fix: string): Problem {
  return { severity: 'error', rule: 'yaml', file, line: at.line, col: at.col, path: '(yaml)', message, fix };
}

const DEPTH_FIX = `an inventory nests about 8 levels (at most ${MAX_DEPTH}): look for a runaway [ or {`;

const FIXES: Partial<Record<YAMLError['code'], [string | undefined, string]>> = {
  TAB_AS_INDENT: [undefined, 'indent with spaces: YAML does not allow tabs for indentation'],
  MULTIPLE_DOCS: [
    'a second YAML document starts here; an inventory is one document',
    'remove this --- line and merge the documents, or split them into separate files',
  ],
  RESOURCE_EXHAUSTION: ['the nesting is too deep to read', DEPTH_FIX],
  BAD_ALIAS: [undefined, 'define the anchor (&name) before its first use (*name)'],
  TAG_RESOLVE_FAILED: [
    undefined,
    'hactl reads plain YAML without custom tags; keep secrets out of the file with pass_env',
  ],
};

/** Where an unclosed quoted scalar starts: yaml reports the end of the file instead. */
function unclosedQuote(text: string): number | undefined {
  let found: number | undefined;
  const check = (t: CST.Token | undefined) => {
    if (found !== undefined || !t || (t.type !== 'double-quoted-scalar' && t.type !== 'single-quoted-scalar')) return;
    const q = t.source[0];
    if (t.source.length < 2 || !t.source.endsWith(q) || (q === '"' && /(^|[^\\])(\\\\)*\\"$/.test(t.source)))
      found = t.offset;
  };
  for (const token of new Parser().parse(text))
    if (token.type === 'document')
      CST.visit(token, (item) => {
        check(item.key ?? undefined);
        check(item.value);
      });
  return found;
}

function yamlProblem(file: string, e: YAMLError, at: At, text: string): Problem {
  const [message, fix] = FIXES[e.code] ?? [undefined, 'fix the YAML syntax (indentation, quotes, colons)'];
  const own = e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
  const offset =
    e.code === 'MISSING_CHAR' && /closing .?quote/.test(own) ? (unclosedQuote(text) ?? e.pos[0]) : e.pos[0];
  return problem(file, at(offset), message ?? own, fix);
}

/** The first character YAML does not allow in a stream: C0 controls other than tab, LF, CR; DEL. */
function controlCharProblem(file: string, text: string, at: At): Problem | undefined {
  // eslint-disable-next-line no-control-regex -- finding control characters is the point
  const i = text.search(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/);
  if (i < 0) return undefined;
  const code = `U+${text.charCodeAt(i).toString(16).toUpperCase().padStart(4, '0')}`;
  return text.charCodeAt(i) === 0
    ? problem(file, at(i), 'contains a NUL byte: this is a binary file, not YAML', 'pass the inventory YAML file')
    : problem(file, at(i), `contains the control character ${code}, which YAML does not allow`, 'remove it');
}

/**
 * Flow nesting counted before parsing: yaml needs seconds (and much memory) to find out that
 * 300 000 [ are too deep. Quoted text and comments are skipped; the limit is twice MAX_DEPTH,
 * so only a runaway file trips it, and the exact depth is checked on the parsed tree.
 */
function flowDepthOffset(text: string): number | undefined {
  let depth = 0;
  let quote = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === '\\' && quote === '"') i++;
      else if (c === quote) quote = '';
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '#' && (i === 0 || /\s/.test(text[i - 1])))
      i = text.indexOf('\n', i) < 0 ? text.length : text.indexOf('\n', i);
    else if (c === '[' || c === '{') {
      if (++depth > 2 * MAX_DEPTH) return i;
    } else if ((c === ']' || c === '}') && depth > 0) depth--;
  }
  return undefined;
}

interface Walked {
  node: unknown;
  depth: number;
}

/** Merge keys, duplicate keys and depth, walking the syntax tree once without recursion. */
function structureProblems(file: string, doc: Document, at: At): Problem[] {
  const out: Problem[] = [];
  const stack: Walked[] = [{ node: doc.contents, depth: 1 }];
  for (let top = stack.pop(); top && out.length <= MAX_PROBLEMS; top = stack.pop()) {
    const { node, depth } = top;
    const start = (node as { range?: number[] } | null)?.range?.[0] ?? 0;
    if ((isMap(node) || isSeq(node)) && depth > MAX_DEPTH) {
      out.push(problem(file, at(start), `nesting is deeper than ${MAX_DEPTH} levels`, DEPTH_FIX));
      continue;
    }
    if (isSeq(node)) for (const item of node.items) stack.push({ node: item, depth: depth + 1 });
    if (isMap(node)) out.push(...mapProblems(file, node.items, at, (n) => stack.push({ node: n, depth: depth + 1 })));
  }
  if (out.length > MAX_PROBLEMS)
    out.splice(
      MAX_PROBLEMS,
      Infinity,
      problem(file, { line: 1, col: 1 }, 'and more problems not shown', 'fix these first'),
    );
  return out;
}

function mapProblems(file: string, items: unknown[], at: At, visit: (n: unknown) => void): Problem[] {
  const out: Problem[] = [];
  const seen = new Map<string, number>();
  for (const pair of items) {
    if (!isPair(pair)) continue;
    visit(pair.value);
    const key = pair.key;
    const offset = (key as { range?: number[] } | null)?.range?.[0] ?? 0;
    // Under %YAML 1.1 yaml turns the key into a merge Symbol; its source is << either way.
    if (isScalar(key) && key.source === '<<' && key.type === 'PLAIN') {
      out.push(
        problem(
          file,
          at(offset),
          'merge keys (<<) are not supported',
          "write the keys out; shared settings go in the top-level ssh: and the cluster's vrrp: and health_check:",
        ),
      );
      continue;
    }
    const name = isScalar(key) ? String(key.value) : undefined;
    if (name === undefined) continue;
    const first = seen.get(name);
    if (first !== undefined)
      out.push(
        problem(
          file,
          at(offset),
          `duplicate key "${name.slice(0, 60)}" (first at line ${at(first).line})`,
          'keep one of them',
        ),
      );
    else seen.set(name, offset);
  }
  return out;
}

function firstAliasOffset(doc: Document): number {
  let first = Infinity;
  const stack: unknown[] = [doc.contents];
  while (stack.length > 0) {
    const n = stack.pop();
    if (isAlias(n)) first = Math.min(first, n.range?.[0] ?? 0);
    if (isSeq(n)) stack.push(...n.items);
    if (isMap(n)) for (const p of n.items) stack.push(p.key, p.value);
  }
  return first === Infinity ? 0 : first;
}

export interface ReadYaml {
  doc?: Document;
  lines: LineCounter;
  data?: unknown;
  problems: Problem[];
}

/** Parses inventory text; a leading BOM is dropped so columns on line 1 match an editor's. */
export function readYaml(file: string, source: string): ReadYaml {
  const text = source.replace(/^\uFEFF/, '');
  const lines = new LineCounter();
  const at: At = (offset) => lines.linePos(offset);
  const control = controlCharProblem(file, text, (i) => locate(text, i));
  if (control) return { lines, problems: [control] };
  const deep = flowDepthOffset(text);
  if (deep !== undefined)
    return {
      lines,
      problems: [problem(file, locate(text, deep), `nesting is deeper than ${2 * MAX_DEPTH} levels`, DEPTH_FIX)],
    };
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: false, merge: false });
  const failed = [...doc.errors, ...doc.warnings.filter((w) => w.code === 'TAG_RESOLVE_FAILED')];
  if (failed.length > 0)
    return { lines, problems: failed.slice(0, MAX_PROBLEMS).map((e) => yamlProblem(file, e, at, text)) };
  const structure = structureProblems(file, doc, at);
  if (structure.length > 0) return { lines, problems: structure };
  try {
    return { doc, lines, data: doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }), problems: [] };
  } catch (e) {
    if (!(e instanceof ReferenceError)) throw e;
    const message = `aliases (*name) expand to more than ${MAX_ALIAS_COUNT} nodes: a "billion laughs" file`;
    return {
      lines,
      problems: [
        problem(file, at(firstAliasOffset(doc)), message, 'write the values out, or use fewer nested aliases'),
      ],
    };
  }
}

/** line:col of an offset without a LineCounter (used before parsing). */
export function locate(text: string, offset: number): { line: number; col: number } {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  return { line, col: offset - before.lastIndexOf('\n') };
}
