/** Schema validation with ajv, turned into Problems that name the place and the fix. */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { packageRoot } from '../util/package-root.js';
import { isSecretPath, showValue, type Locator, type PathSeg, type Problem } from './problems.js';
import { grammarOf } from './field-grammars.js';
import { typeHint } from './type-hints.js';

/**
 * The schema is schema/inventory.schema.json (generated from src/inventory/schema.ts, checked by
 * a test), so the CLI never loads TypeBox. The build compiles it once with ajv's standalone
 * code generation (scripts/gen-validator.mjs); compiling at every start cost ~0.1-0.2 s. The
 * precompiled validator records the schema's hash and is only used while it matches.
 */
const schemaText = readFileSync(join(packageRoot(), 'schema', 'inventory.schema.json'), 'utf8');
const InventorySchema = JSON.parse(schemaText) as Record<string, unknown>;

export const schemaHash = (text: string) => createHash('sha256').update(text).digest('hex');

async function loadValidator(): Promise<ValidateFunction> {
  const pre = join(packageRoot(), 'dist', 'inventory-validator.cjs');
  if (existsSync(pre)) {
    const mod = createRequire(import.meta.url)(pre) as { schemaHash: string; validate: ValidateFunction };
    if (mod.schemaHash === schemaHash(schemaText)) return mod.validate;
  }
  const { Ajv } = await import('ajv');
  return new Ajv({ allErrors: true, strict: false }).compile(InventorySchema);
}

const validate = await loadValidator();

function pointerToPath(pointer: string): PathSeg[] {
  if (!pointer) return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

/** The value of the document at a data path (undefined when the path leaves the document). */
function valueAt(data: unknown, path: PathSeg[]): unknown {
  return path.reduce<unknown>(
    (v, seg) => (v !== null && typeof v === 'object' ? (v as Record<string | number, unknown>)[seg] : undefined),
    data,
  );
}

/** Schema node at a data path, for listing the keys allowed there. */
function schemaAt(path: PathSeg[]): Record<string, unknown> | undefined {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- walks the TypeBox schema's own shape
  let node: any = InventorySchema;
  for (const seg of path) {
    if (!node) return undefined;
    if (typeof seg === 'number') node = node.items;
    else node = node.properties?.[seg] ?? node.patternProperties?.[Object.keys(node.patternProperties ?? {})[0] ?? ''];
  }
  return node;
}

function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++)
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
  return d[a.length][b.length];
}

/** An unknown key: a typo of an allowed one, or (in a name → value map) a name its grammar refuses. */
function unknownKey(path: PathSeg[], extra: string, loc: Locator): Problem {
  const node = schemaAt(path);
  const keyPattern = Object.keys((node?.patternProperties as object) ?? {})[0];
  const keyGrammar = keyPattern ? grammarOf(keyPattern) : undefined;
  if (keyGrammar) {
    const v = keyGrammar.explain(extra, [...path, extra]);
    return loc.problem([...path, extra], 'schema', `the name ${showValue(extra)} ${v.message}`, v.fix, { key: true });
  }
  const allowed = Object.keys((node?.properties as object) ?? {});
  // Only short keys are compared: the distance is quadratic in the key's length.
  const near =
    extra.length > 64
      ? undefined
      : allowed.filter((k) => distance(k, extra) <= 2).sort((a, b) => distance(a, extra) - distance(b, extra))[0];
  const fix =
    extra === '<<'
      ? 'merge keys are not supported; write the keys out'
      : near
        ? `did you mean "${near}"?`
        : `allowed keys here: ${allowed.join(', ')}`;
  return loc.problem([...path, extra], 'schema', `unknown key ${showValue(extra)}`, fix, { key: true });
}

function patternProblem(e: ErrorObject, path: PathSeg[], value: unknown, loc: Locator): Problem {
  const g = grammarOf(String(e.params.pattern));
  if (g && typeof value === 'string' && !isSecretPath(path)) {
    const v = g.explain(value, path);
    return loc.problem(path, 'schema', `${showValue(value)} ${v.message}`, v.fix);
  }
  return loc.problem(path, 'schema', `${showValue(value)} has a form that is not allowed here`);
}

function oneProblem(e: ErrorObject, data: unknown, loc: Locator): Problem | undefined {
  const path = pointerToPath(e.instancePath);
  const value = valueAt(data, path);
  const shown = isSecretPath(path) ? 'the password' : showValue(value);
  switch (e.keyword) {
    case 'additionalProperties':
      return unknownKey(path, String(e.params.additionalProperty), loc);
    case 'required':
      return loc.problem(
        path,
        'schema',
        `missing required key "${e.params.missingProperty}"`,
        `add ${e.params.missingProperty}: (see inventory.example.yaml)`,
      );
    case 'type': {
      const hint = typeHint(String(e.params.type), value, isSecretPath(path));
      return loc.problem(path, 'schema', hint.message, hint.fix);
    }
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return loc.problem(path, 'schema', `${shown} is out of range: must be ${e.params.comparison} ${e.params.limit}`);
    case 'minItems':
    case 'maxItems':
      return loc.problem(
        path,
        'schema',
        `needs ${e.keyword === 'minItems' ? 'at least' : 'at most'} ${e.params.limit} item(s), got ${Array.isArray(value) ? value.length : 0}`,
      );
    case 'minLength':
      return loc.problem(path, 'schema', 'must not be empty');
    case 'maxLength':
      return loc.problem(path, 'schema', `is longer than ${e.params.limit} characters`);
    case 'pattern':
      return patternProblem(e, path, value, loc);
    case 'const':
    case 'anyOf':
      return undefined; // collapsed in schemaProblems
    default:
      return loc.problem(path, 'schema', `${shown} ${e.message ?? 'is invalid'}`);
  }
}

/** A value that is not one of a few literals, with the nearest way to write one. */
function choiceProblem(path: PathSeg[], value: unknown, allowed: unknown[], loc: Locator): Problem {
  const list = allowed.map((a) => JSON.stringify(a)).join(', ');
  const text = typeof value === 'string' ? value.trim() : undefined;
  const asNumber = allowed.find((a) => typeof a === 'number' && text !== undefined && Number(text) === a);
  const otherCase = allowed.find((a) => typeof a === 'string' && text?.toLowerCase() === a.toLowerCase());
  const fix =
    asNumber !== undefined
      ? `write ${asNumber} without quotes`
      : otherCase !== undefined
        ? `write ${otherCase}, in that case`
        : `write one of ${list}`;
  return loc.problem(path, 'schema', `${showValue(value)} is not one of: ${list}`, fix);
}

/** ajv's errors for a huge document can number in the tens of thousands: say the first ones. */
export const MAX_SCHEMA_PROBLEMS = 100;

export function schemaProblems(data: unknown, loc: Locator): Problem[] {
  if (validate(data)) return [];
  const errors = validate.errors ?? [];
  const out: Problem[] = [];
  // Unions of literals (e.g. host_key_policy) report one const error per choice: collapse them.
  const choices = new Map<string, unknown[]>();
  for (const e of errors) {
    if (e.keyword === 'const')
      choices.set(e.instancePath, [...(choices.get(e.instancePath) ?? []), e.params.allowedValue]);
  }
  for (const [pointer, allowed] of choices) {
    const path = pointerToPath(pointer);
    out.push(choiceProblem(path, valueAt(data, path), allowed, loc));
  }
  const seen = new Set<string>();
  for (const [i, e] of errors.entries()) {
    if (choices.has(e.instancePath) && e.keyword === 'type') continue;
    if (out.length >= MAX_SCHEMA_PROBLEMS) {
      out.push(
        loc.problem(
          pointerToPath(e.instancePath),
          'schema',
          `and up to ${errors.length - i} more problems not shown`,
          'fix these first, then validate again',
        ),
      );
      break;
    }
    const p = oneProblem(e, data, loc);
    if (!p) continue;
    const key = `${p.path}|${p.message}`;
    if (!seen.has(key)) {
      seen.add(key);
      out.push(p);
    }
  }
  return out;
}
