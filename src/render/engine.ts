/** Handlebars set up for config files: strict (a missing value is an error) and no HTML escaping. */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { TemplateDelegate } from 'handlebars';
import { packageRoot } from '../util/package-root.js';

export const COMPILE_OPTIONS = { strict: true, noEscape: true } as const;

const require = createRequire(import.meta.url);
export type Precompiled = Record<string, { hash: string; spec: Parameters<typeof import('handlebars').template>[0] }>;
let precompiled: Precompiled | undefined;

export const sourceHash = (source: string) => createHash('sha256').update(source).digest('hex');

/** The precompiled form when it was built from this very source, else a fresh compile. */
export function compileTemplate(
  name: string,
  source: string,
  table: Precompiled,
): { fn: TemplateDelegate; precompiled: boolean } {
  const pre = table[name];
  if (pre && pre.hash === sourceHash(source)) return { fn: runtime().template(pre.spec), precompiled: true };
  return { fn: compiler(name).compile(source, COMPILE_OPTIONS), precompiled: false };
}

/** The runtime the build copied into dist/ (what the package ships), else the handlebars package's. */
function runtime(): typeof import('handlebars') {
  const shipped = join(packageRoot(), 'dist', 'handlebars.runtime.cjs');
  return require(existsSync(shipped) ? shipped : 'handlebars/runtime') as typeof import('handlebars');
}

/** The compiler is a build-time dependency: an installed hactl has only precompiled templates. */
function compiler(name: string): typeof import('handlebars') {
  try {
    return require('handlebars') as typeof import('handlebars');
  } catch {
    throw new Error(
      `templates/${name} differs from the template this hactl was built with, and the Handlebars compiler is not installed: reinstall hactl (or, in a checkout, npm run build)`,
    );
  }
}

/**
 * The build precompiles templates/ (scripts/gen-templates.mjs), so the CLI needs only
 * handlebars' runtime. A template whose source no longer matches its precompiled hash (edited
 * since the build), or a tree without a build (ts-jest), is compiled here instead.
 */
function compile(name: string, source: string): TemplateDelegate {
  if (!precompiled) {
    const file = join(packageRoot(), 'dist', 'templates.precompiled.cjs');
    precompiled = existsSync(file) ? (require(file) as Precompiled) : {};
  }
  return compileTemplate(name, source, precompiled).fn;
}

const cache = new Map<string, TemplateDelegate>();

/** Tests: render from this table of precompiled templates (or {} for none) instead of the build's. */
export function useTemplates(table: Precompiled | undefined): void {
  precompiled = table;
  cache.clear();
}

export function template(name: string): TemplateDelegate {
  let t = cache.get(name);
  if (!t) {
    t = compile(name, readFileSync(join(packageRoot(), 'templates', name), 'utf8'));
    cache.set(name, t);
  }
  return t;
}

/**
 * Handlebars' strict mode checks plain {{value}} lookups but not the arguments of block
 * helpers ({{#if label}}, {{#each peers}}). This proxy closes that gap: reading a key the
 * context does not set is an error, so a template and its context cannot drift apart.
 */
function strictContext<T>(value: T, path: string): T {
  if (value === null || typeof value !== 'object') return value;
  const missing = (k: string) => new Error(`the template reads ${path}.${k}, which its context does not set`);
  return new Proxy(value as object, {
    get(target, key, receiver) {
      if (typeof key === 'symbol' || key in target)
        return strictContext(Reflect.get(target, key, receiver), `${path}.${String(key)}`);
      throw missing(key);
    },
    getOwnPropertyDescriptor(target, key) {
      if (typeof key === 'string' && !(key in target)) throw missing(key);
      return Reflect.getOwnPropertyDescriptor(target, key);
    },
  }) as T;
}

export function renderTemplate(name: string, context: object): string {
  try {
    return template(name)(strictContext(context, 'context'));
  } catch (e) {
    throw new Error(`template ${name}: ${(e as Error).message}`);
  }
}
