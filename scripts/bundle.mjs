// The CLI as oclif runs it: every command (and the command_not_found hook) bundled from tsc's
// output in dist/ into dist/cli/, with code splitting, so a command loads a handful of chunks
// instead of ~100 modules one by one. Node 20's ESM loader pays for each module it resolves,
// reads, compiles and links: the deploy command's own graph took 52-68 ms to load as separate
// files and 27-34 ms bundled (issue 15). Dynamic imports stay dynamic (their own chunks), so
// what a command loads lazily is still loaded only when used; packages stay external
// (node_modules, as installed). dist/src and dist/commands stay for the benchmark and the
// tests that import the build; oclif.manifest.json points at dist/cli.
import { readdirSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { build } from 'esbuild';

const root = new URL('..', import.meta.url).pathname;
const dist = join(root, 'dist');
const out = join(dist, 'cli');

const entryPoints = {
  'hooks/not-found': join(dist, 'src', 'cli', 'not-found.js'),
  // bin/run.js finds the compile cache's directory with it, before oclif loads.
  'util/cache-file': join(dist, 'src', 'util', 'cache-file.js'),
};
(function commands(dir) {
  for (const f of readdirSync(dir)) {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) commands(p);
    else if (f.endsWith('.js')) entryPoints[relative(dist, p).replace(/\.js$/, '')] = p;
  }
})(join(dist, 'commands'));

rmSync(out, { recursive: true, force: true });
const result = await build({
  entryPoints,
  outdir: out,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20.11',
  packages: 'external',
  chunkNames: 'chunks/[name]-[hash]',
  metafile: true,
  logLevel: 'warning',
});
const outputs = Object.entries(result.metafile.outputs);
const bytes = outputs.reduce((n, [, o]) => n + o.bytes, 0);
console.log(
  `dist/cli: ${Object.keys(entryPoints).length} entry points, ${outputs.length} files, ${Math.round(bytes / 1024)} KiB`,
);
