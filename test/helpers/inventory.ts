import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { loadInventoryText, type LoadResult } from '../../src/inventory/load.js';
import type { Inventory } from '../../src/inventory/model.js';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const TEST_ENV = { TEST_VRRP_PASS: 'envpass1', HACTL_VRRP_PASS: 'labpass1' };

export function fixturePath(name: string): string {
  return join(ROOT, 'test', 'fixtures', 'inventories', name);
}

export function loadText(text: string, file = 'inventory.yaml', env: NodeJS.ProcessEnv = TEST_ENV): LoadResult {
  return loadInventoryText(file, text, { env, requireSecrets: true });
}

/** Loads a file that must be valid; fails the test with every problem otherwise. */
export function loadValid(path: string, env: NodeJS.ProcessEnv = TEST_ENV): Inventory {
  const r = loadInventoryText(path, readFileSync(path, 'utf8'), { env, requireSecrets: true });
  if (!r.inventory) throw new Error(`expected ${path} to be valid:\n${JSON.stringify(r.problems, null, 2)}`);
  return r.inventory;
}
