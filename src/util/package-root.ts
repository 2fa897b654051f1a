/** The hactl package root (where templates/ and schema/ live), from src/ (ts-jest) or dist/src/ (built). */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

export function packageRoot(): string {
  if (cached) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const pj = join(dir, 'package.json');
    if (existsSync(pj) && (JSON.parse(readFileSync(pj, 'utf8')) as { name?: string }).name === 'hactl')
      return (cached = dir);
    dir = resolve(dir, '..');
  }
  throw new Error('hactl: package root (package.json) not found above ' + dirname(fileURLToPath(import.meta.url)));
}
