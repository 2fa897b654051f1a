/** The annotated example inventory and every file in examples/ load without a single problem, and render. */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadInventoryText } from '../../../src/inventory/load.js';
import { renderInventory } from '../../../src/render/render.js';
import { ROOT } from '../../helpers/inventory.js';

const files = [
  join(ROOT, 'inventory.example.yaml'),
  ...readdirSync(join(ROOT, 'examples'))
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => join(ROOT, 'examples', f)),
];
const env = { HACTL_VRRP_PASS: 'example1' };

test.each(files.map((f) => [f.slice(ROOT.length + 1), f]))('%s is valid and renders', (_name, file) => {
  const r = loadInventoryText(file, readFileSync(file, 'utf8'), { env, requireSecrets: true });
  expect(r.problems).toEqual([]);
  expect(r.inventory).toBeDefined();
  const renders = renderInventory(r.inventory!);
  expect(renders.length).toBeGreaterThanOrEqual(2);
  for (const h of renders) expect(h.files.map((f) => f.path)).toContain('/etc/keepalived/keepalived.conf');
});

test('there is more than the annotated example to check', () => {
  expect(files.length).toBeGreaterThan(1);
});
