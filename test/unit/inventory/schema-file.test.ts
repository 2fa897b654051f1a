import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { InventorySchema } from '../../../src/inventory/schema.js';
import { ROOT } from '../../helpers/inventory.js';

it('schema/inventory.schema.json is generated from src/inventory/schema.ts (run: hactl schema > schema/inventory.schema.json)', () => {
  const committed = JSON.parse(readFileSync(join(ROOT, 'schema', 'inventory.schema.json'), 'utf8'));
  expect(committed).toEqual(JSON.parse(JSON.stringify(InventorySchema)));
});
