/** Handlebars set up for config files: strict (a missing value is an error) and no HTML escaping. */
import Handlebars from 'handlebars';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join, resolve } from 'node:path';

/** templates/ at the package root, from src/render (ts-jest) or dist/src/render (built). */
function templatesDir(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'templates');
    try {
      readFileSync(join(candidate, 'keepalived.conf.hbs'));
      return candidate;
    } catch {
      dir = resolve(dir, '..');
    }
  }
  throw new Error('hactl: templates/ directory not found next to the package');
}

const cache = new Map<string, Handlebars.TemplateDelegate>();

export function template(name: string): Handlebars.TemplateDelegate {
  let t = cache.get(name);
  if (!t) {
    const source = readFileSync(join(templatesDir(), name), 'utf8');
    t = Handlebars.compile(source, { strict: true, noEscape: true });
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
      if (typeof key === 'symbol' || key in target) return strictContext(Reflect.get(target, key, receiver), `${path}.${String(key)}`);
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
