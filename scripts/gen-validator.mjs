// Compiles schema/inventory.schema.json into dist/inventory-validator.cjs with ajv's standalone
// code generation, so the CLI validates inventories without compiling the schema at start.
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import standaloneCode from 'ajv/dist/standalone/index.js';

const root = new URL('..', import.meta.url).pathname;
const text = readFileSync(`${root}/schema/inventory.schema.json`, 'utf8');
const ajv = new Ajv({ allErrors: true, strict: false, code: { source: true } });
const validate = ajv.compile(JSON.parse(text));
const code = standaloneCode.default ? standaloneCode.default(ajv, validate) : standaloneCode(ajv, validate);
const hash = createHash('sha256').update(text).digest('hex');
mkdirSync(`${root}/dist`, { recursive: true });
writeFileSync(
  `${root}/dist/inventory-validator.cjs`,
  `${code}\nmodule.exports.validate = module.exports;\nmodule.exports.schemaHash = ${JSON.stringify(hash)};\n`,
);
console.log(`dist/inventory-validator.cjs: ${(code.length / 1024).toFixed(0)} KiB`);
