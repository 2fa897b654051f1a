// Writes schema/inventory.schema.json from src/inventory/schema.ts (compiled), so TypeBox is a
// build-time dependency: the CLI validates with, and `hactl schema` prints, the generated file.
import { writeFileSync } from 'node:fs';
import { InventorySchema } from '../dist/src/inventory/schema.js';

const root = new URL('..', import.meta.url).pathname;
writeFileSync(`${root}/schema/inventory.schema.json`, `${JSON.stringify(InventorySchema, null, 2)}\n`);
console.log('schema/inventory.schema.json');
