/**
 * The package as a user gets it: the source tree as a clean clone has it (tracked and new files,
 * no dist/ and no manifest) is packed with `npm pack` (prepack builds), the tarball installed
 * globally into a temp prefix (dependencies from the npm cache npm ci filled, else the
 * registry), and the installed hactl run from an unrelated directory.
 */
import { execFileSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
let tmp: string;
let tarball: string;
let files: string[];
let hactl: string;

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'hactl-pack-'));
  const clone = join(tmp, 'clone');
  const listed = execFileSync('git', ['ls-files', '-co', '--exclude-standard', '-z'], { cwd: ROOT, encoding: 'utf8' });
  for (const f of listed.split('\0').filter((f) => f && existsSync(join(ROOT, f)))) {
    mkdirSync(dirname(join(clone, f)), { recursive: true });
    cpSync(join(ROOT, f), join(clone, f));
  }
  // The build tools, as `npm ci` would install them; not part of what is packed.
  symlinkSync(join(ROOT, 'node_modules'), join(clone, 'node_modules'));
  const packed = await execa('npm', ['pack', '--json', '--pack-destination', tmp], { cwd: clone });
  // prepack's build prints its own lines to stdout first; npm's --json document comes last.
  const json = packed.stdout.slice(packed.stdout.search(/^\[$/m));
  const [info] = JSON.parse(json) as { filename: string; files: { path: string }[] }[];
  tarball = join(tmp, info.filename);
  files = info.files.map((f) => f.path);
  const prefix = join(tmp, 'prefix');
  await execa('npm', ['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', tarball]);
  hactl = join(prefix, 'bin', 'hactl');
}, 300_000);

afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const run = (args: string[], cwd: string) =>
  execa(hactl, args, { cwd, reject: false, env: { ...process.env, NO_COLOR: '1', HACTL_VRRP_PASS: 'lab-pass' } });

test('the tarball holds the bundled CLI, the manifest, the precompiled files and the licence; no maps, bench or test fakes', () => {
  for (const f of [
    'LICENSE',
    'oclif.manifest.json',
    'dist/cli/commands/deploy.js',
    'dist/cli/hooks/not-found.js',
    'dist/cli/util/cache-file.js',
    'dist/inventory-validator.cjs',
    'dist/templates.precompiled.cjs',
    'dist/handlebars.runtime.cjs',
    'schema/inventory.schema.json',
    'templates/keepalived.conf.hbs',
  ])
    expect(files).toContain(f);
  expect(files.filter((f) => f.endsWith('.map') || f.startsWith('dist/bench/') || /fake/.test(f))).toEqual([]);
  // Only the bundle runs: tsc's module-per-file output stays out, so the install below proves
  // dist/cli needs nothing from it.
  expect(files.filter((f) => f.startsWith('dist/src/') || f.startsWith('dist/commands/'))).toEqual([]);
});

test('installed: --version, validate and render from another directory', async () => {
  const elsewhere = mkdtempSync(join(tmp, 'elsewhere-'));
  expect((await run(['--version'], elsewhere)).stdout).toMatch(/^hactl\/\d+\.\d+\.\d+ /);
  const inv = join(ROOT, 'inventory.example.yaml');
  const v = await run(['validate', '-i', inv], elsewhere);
  expect({ code: v.exitCode, out: v.stdout }).toEqual({ code: 0, out: expect.stringMatching(/valid \(/) });
  const r = await run(['render', '-i', inv, '--out', 'out'], elsewhere);
  expect(r.exitCode).toBe(0);
  expect(readdirSync(join(elsewhere, 'out')).length).toBeGreaterThan(0);
  const typo = await run(['valdate', '-i', inv], elsewhere);
  expect(typo.exitCode).toBe(2);
  expect(typo.stderr).toMatch(/Did you mean validate\?/);
}, 60_000);

test("installed: where Node has a compile cache (22.1+), bin/run.js finds hactl's cache directory", async () => {
  // Node 20 has none: a recording module.enableCompileCache stands in, preloaded.
  const log = join(tmp, 'compile-cache.log');
  writeFileSync(log, '');
  const cache = join(tmp, 'cache');
  const v = await execa(hactl, ['validate', '-i', join(ROOT, 'inventory.example.yaml')], {
    cwd: tmp,
    reject: false,
    env: {
      ...process.env,
      NODE_OPTIONS: `--import ${join(ROOT, 'test', 'helpers', 'load-log', 'compile-cache.mjs')}`,
      HACTL_CACHE_DIR: cache,
      HACTL_CC_LOG: log,
      HACTL_VRRP_PASS: 'lab-pass',
    },
  });
  expect({ code: v.exitCode, out: v.stdout }).toEqual({ code: 0, out: expect.stringMatching(/valid \(/) });
  expect(readFileSync(log, 'utf8')).toBe(`${join(cache, 'compile')}\n`);
}, 60_000);

test('build-time dependencies stay out of the install', () => {
  const modules = join(dirname(dirname(hactl)), 'lib', 'node_modules', 'hactl', 'node_modules');
  for (const dep of ['@sinclair/typebox', 'handlebars', 'inquirer', 'rxjs', 'typescript', 'jest'])
    expect(existsSync(join(modules, dep))).toBe(false);
});
