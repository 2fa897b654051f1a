/** `lab up --tls`: the lab's CA and certificate, and an inventory whose HTTPS site loads cleanly. */
import { mkdtempSync, rmSync, statSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { labInventory } from '../../../src/lab/inventory-writer.js';
import { planLab } from '../../../src/lab/plan.js';
import { removeLabTls, writeLabTls } from '../../../src/lab/tls.js';
import { loadInventoryFile } from '../../../src/inventory/load.js';

let dir: string;
beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'hactl-lab-tls-'))));
afterEach(() => rmSync(dir, { recursive: true, force: true }));

test('the files, the keys 0600, and an inventory with tls.ca that validates without a problem', async () => {
  const plan = planLab(3, { clusters: 1, lbs: 2, backends: 1, dualMaster: false });
  const files = await writeLabTls(dir, [plan.serverName], plan.id);
  expect((statSync(files.key).mode & 0o777).toString(8)).toBe('600');
  expect((statSync(files.caKey).mode & 0o777).toString(8)).toBe('600');
  const doc = labInventory({ plan, identityFile: '/x/id', knownHostsFile: '/x/kh', vrrpPass: 'abcd1234', tls: true });
  expect(doc.clusters[0].sites[0]).toMatchObject({
    port: 443,
    tls: { certificate: 'tls/www.pem', key: 'tls/www.key', ca: 'ca.pem' },
  });
  writeFileSync(join(dir, 'inventory.yaml'), stringify(doc));
  const r = loadInventoryFile(join(dir, 'inventory.yaml'));
  expect(r.problems).toEqual([]);
  expect(r.inventory!.clusters[0].sites[0].tls!.leaf.sans).toEqual([plan.serverName]);
  await removeLabTls(files);
  expect(Object.values(files).some((f) => existsSync(f))).toBe(false);
  expect(existsSync(join(dir, 'tls'))).toBe(false);
});
