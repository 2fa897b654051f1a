/**
 * A value of the wrong type, said the way the operator fixes it: `unicast: yes` is text in YAML
 * 1.2, so the fix is "write true"; `vrid: "51"` is quoted, so "write 51 without quotes".
 */
import { showValue } from './problems.js';

export interface TypeHint {
  message: string;
  fix: string;
}

const TYPE_NAMES: Record<string, string> = {
  string: 'text',
  integer: 'a whole number',
  number: 'a number',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping of keys',
};

const YES = new Set(['yes', 'y', 'on', 'true']);
const NO = new Set(['no', 'n', 'off', 'false']);

const isNumeric = (v: unknown): v is string => typeof v === 'string' && v.trim() !== '' && !isNaN(Number(v));

function booleanFix(v: unknown): string {
  const word = typeof v === 'string' ? v.trim().toLowerCase() : '';
  if (YES.has(word) || NO.has(word))
    return `write ${YES.has(word) ? 'true' : 'false'} without quotes: YAML 1.2 reads ${JSON.stringify(v)} as text`;
  return 'write true or false';
}

function numberFix(expected: string, v: unknown): string {
  if (isNumeric(v)) return `write ${v.trim()} without quotes`;
  if (expected === 'integer' && typeof v === 'number') return 'write a whole number';
  if (typeof v === 'string' && /^\d+(\.\d+)?\s*[a-z]+$/i.test(v)) return 'write the number alone, without a unit';
  return expected === 'integer' ? 'write a whole number, e.g. 51' : 'write a number, e.g. 1 or 0.5';
}

function stringFix(v: unknown, secret: boolean): string {
  if (v === null || v === undefined) return 'give a value after the colon';
  if (Array.isArray(v)) return 'write one value, not a list';
  if (typeof v === 'object') return 'write one value, not a mapping (a value holding ": " must be quoted)';
  return secret ? 'write the password in quotes, e.g. pass: "1234"' : `write it in quotes: "${String(v)}"`;
}

function listFix(v: unknown): string {
  if (v === null || v === undefined) return 'give at least one item, each on a "- " line under the key';
  if (typeof v === 'object') return 'write a list: start each item with "- "';
  const one = String(v);
  return `write a list: [${one}], or one "- ${one}" line per item`;
}

function mappingFix(v: unknown): string {
  if (v === null || v === undefined) return 'give its keys indented under it, or remove the key';
  if (Array.isArray(v)) return 'write key: value lines without "- "';
  return 'write key: value lines indented under this key';
}

/** expected is ajv's type name; secret hides the value (the VRRP password). */
export function typeHint(expected: string, v: unknown, secret: boolean): TypeHint {
  const shown =
    secret && v !== null && v !== undefined ? 'a value that is not text (not shown: it is the password)' : showValue(v);
  const message = `expected ${TYPE_NAMES[expected] ?? expected}, got ${shown}`;
  if (expected === 'boolean') return { message, fix: booleanFix(v) };
  if (expected === 'integer' || expected === 'number') return { message, fix: numberFix(expected, v) };
  if (expected === 'string') return { message, fix: stringFix(v, secret) };
  if (expected === 'array') return { message, fix: listFix(v) };
  if (expected === 'object') return { message, fix: mappingFix(v) };
  return { message, fix: 'see the inventory reference in the README' };
}
