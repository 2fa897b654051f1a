// Precompiles templates/*.hbs into dist/templates.precompiled.cjs, so the CLI renders with
// handlebars' small runtime instead of loading and running its compiler at every start
// (~50 ms of a no-op deploy). Each entry records its source's hash and is used only while
// the template on disk still matches (src/render/engine.ts).
//
// The runtime itself (handlebars' own standalone build, licence header included) is copied
// beside it as dist/handlebars.runtime.cjs: the package ships that, 78 KB, and not handlebars
// with its compiler and their dependencies (about 6 MB installed), which stay build-time.
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import Handlebars from 'handlebars';
import { COMPILE_OPTIONS, sourceHash } from '../dist/src/render/engine.js';

const root = new URL('..', import.meta.url).pathname;
const entries = [];
for (const name of readdirSync(`${root}/templates`)
  .filter((n) => n.endsWith('.hbs'))
  .sort()) {
  const source = readFileSync(`${root}/templates/${name}`, 'utf8');
  const hash = sourceHash(source);
  entries.push(
    `${JSON.stringify(name)}: { hash: ${JSON.stringify(hash)}, spec: ${Handlebars.precompile(source, COMPILE_OPTIONS)} }`,
  );
}
mkdirSync(`${root}/dist`, { recursive: true });
writeFileSync(`${root}/dist/templates.precompiled.cjs`, `module.exports = {\n${entries.join(',\n')}\n};\n`);
const runtime = createRequire(import.meta.url).resolve('handlebars/dist/handlebars.runtime.js');
copyFileSync(runtime, `${root}/dist/handlebars.runtime.cjs`);
console.log(`dist/templates.precompiled.cjs: ${entries.length} templates; dist/handlebars.runtime.cjs`);
