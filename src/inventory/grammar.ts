/**
 * What an inventory string may be, judged by the grammar of the file it lands in. Each field's
 * grammar is one JSON Schema pattern (editors and ajv check it) plus explain(), which says why a
 * value that fails the pattern would change the file's meaning and how to write it instead.
 * The grammars themselves live next to the file format they follow: grammar-names.ts,
 * grammar-addresses.ts, grammar-nginx.ts (and grammar-keepalived.ts for the password).
 */
import type { PathSeg } from './problems.js';

export interface Verdict {
  /** Completes a sentence that starts with the value: `"eth0:1" is a label, not an interface`. */
  message: string;
  fix: string;
}

export interface Grammar {
  pattern: string;
  /** Only called for a value that fails the pattern; always names a reason. */
  explain(value: string, path: readonly PathSeg[]): Verdict;
}

const CHAR_NAMES: Record<string, string> = {
  ' ': 'a space',
  '\t': 'a tab',
  '\n': 'a line break',
  '\r': 'a carriage return',
};

/** One character as a reader can see it: ";" , a space, U+0007. */
export function charName(c: string): string {
  if (CHAR_NAMES[c]) return CHAR_NAMES[c];
  const code = c.codePointAt(0) ?? 0;
  if (code < 0x20 || (code >= 0x7f && code < 0xa0)) return `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
  return JSON.stringify(c);
}

/** C0 controls and DEL: never meant in a config value (a pasted escape, a binary file). */
export function isControl(c: string): boolean {
  const code = c.codePointAt(0) ?? 0;
  return code < 0x20 || code === 0x7f;
}

/** The distinct characters of s that `allowed` does not accept, named; '' when there are none. */
export function badChars(s: string, allowed: RegExp | ((c: string) => boolean)): string {
  const ok = typeof allowed === 'function' ? allowed : (c: string) => allowed.test(c);
  const bad = [...new Set([...s].filter((c) => !ok(c)))];
  if (bad.length === 0) return '';
  const names = bad.slice(0, 5).map(charName);
  const more = bad.length > 5 ? ` and ${bad.length - 5} more` : '';
  return names.length === 1 ? names[0] : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}${more}`;
}
