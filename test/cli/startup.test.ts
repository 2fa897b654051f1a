/**
 * What the built CLI loads to start a command (issue 15): hactl's code from its bundle
 * (dist/cli, a few chunks, not tsc's ~100 modules one by one), and not semver (oclif's engines
 * check, which bin/run.js replaces with its own). Uses dist/ (npm test builds first).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import nodeModule from 'node:module';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { ROOT } from '../helpers/inventory.js';

const HELPERS = join(ROOT, 'test', 'helpers', 'load-log');
let dir: string;
beforeAll(() => {
  const bundle = join(ROOT, 'dist', 'cli', 'commands', 'validate.js');
  const src = join(ROOT, 'commands', 'validate.ts');
  if (!existsSync(bundle) || statSync(src).mtimeMs > statSync(bundle).mtimeMs)
    throw new Error('dist/cli is older than the sources: run npm run build first');
  dir = mkdtempSync(join(tmpdir(), 'hactl-startup-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const INVENTORY = join(ROOT, 'inventory.example.yaml');
const env = { ...process.env, NO_COLOR: '1', HACTL_VRRP_PASS: 'lab-pass' };

/** Runs the built CLI under the load log; returns the files it loaded (relative to ROOT) and the log's other lines. */
function loaded(args: string[]): { files: string[]; other: string[] } {
  const log = join(dir, `load-${Math.random().toString(16).slice(2)}.log`);
  execFileSync(process.execPath, ['--import', join(HELPERS, 'register.mjs'), join(ROOT, 'bin', 'run.js'), ...args], {
    env: { ...env, HACTL_LOAD_LOG: log },
    encoding: 'utf8',
  });
  const lines = readFileSync(log, 'utf8').trim().split('\n');
  const files = lines.filter((l) => /^(esm|cjs) /.test(l)).map((l) => relative(ROOT, l.slice(4)));
  return { files, other: lines.filter((l) => !/^(esm|cjs) /.test(l)) };
}

test('a command runs hactl from its bundle only: a few chunks, nothing of tsc output, no semver', () => {
  const { files, other } = loaded(['validate', '-i', INVENTORY]);
  const ours = files.filter((f) => f.startsWith('dist/'));
  expect(ours).toContain('dist/cli/commands/validate.js');
  expect(ours.filter((f) => f.startsWith('dist/src/') || f.startsWith('dist/commands/'))).toEqual([]);
  // the entry and its chunks, plus the precompiled validator; tsc's output was 60+ modules here
  expect(ours.length).toBeLessThanOrEqual(12);
  expect(files.filter((f) => f.startsWith('node_modules/semver/'))).toEqual([]);
  expect(files.some((f) => f.startsWith('node_modules/@oclif/core/'))).toBe(true); // the log sees CommonJS too
  // bin/run.js turns oclif's check off for its own process only, not for what hactl runs
  expect(other).toContain('env OCLIF_DISABLE_ENGINE_WARNING=(unset)');
});

describe("bin/run.js checks hactl's engines.node itself", () => {
  const run = (version: string) =>
    spawnSync(
      process.execPath,
      ['--import', join(HELPERS, 'old-node.mjs'), join(ROOT, 'bin', 'run.js'), 'validate', '-i', INVENTORY],
      { env: { ...env, HACTL_FAKE_NODE_VERSION: version }, encoding: 'utf8' },
    );
  const engines = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } })
    .engines.node;

  test('package.json still asks for the form the check reads', () => expect(engines).toBe('>=20.11'));

  test.each(['20.10.0', '18.19.1'])('Node.js %s: a warning that names the version needed, then the command', (v) => {
    const r = run(v);
    expect(r.stderr).toContain(
      `warning: hactl needs Node.js 20.11 or later (engines.node ">=20.11"); this is Node.js ${v}. Install a newer Node.js.`,
    );
    expect({ status: r.status, out: r.stdout }).toEqual({ status: 0, out: expect.stringMatching(/valid \(/) });
  });

  test.each(['20.11.0', '21.0.0', process.versions.node])('Node.js %s: no warning', (v) => {
    const r = run(v);
    expect(r.stderr).not.toMatch(/needs Node\.js/);
    expect(r.status).toBe(0);
  });
});

describe('the compile cache (module.enableCompileCache, Node.js 22.1 and later)', () => {
  const run = (cacheDir: string, preload = true) => {
    const log = join(dir, `cc-${Math.random().toString(16).slice(2)}.log`);
    writeFileSync(log, '');
    const r = spawnSync(
      process.execPath,
      [
        ...(preload ? ['--import', join(HELPERS, 'compile-cache.mjs')] : []),
        join(ROOT, 'bin', 'run.js'),
        'validate',
        '-i',
        INVENTORY,
      ],
      { env: { ...env, HACTL_CACHE_DIR: cacheDir, HACTL_CC_LOG: log }, encoding: 'utf8' },
    );
    return { status: r.status, asked: readFileSync(log, 'utf8').split('\n').filter(Boolean) };
  };

  test("is kept in hactl's cache directory, private, before anything else loads", () => {
    const cache = join(dir, 'cache-a');
    expect(run(cache)).toEqual({ status: 0, asked: [join(cache, 'compile')] });
    expect(statSync(join(cache, 'compile')).mode & 0o777).toBe(0o700);
    expect(statSync(cache).mode & 0o777).toBe(0o700);
  });

  test('HACTL_CACHE_DIR= (empty) keeps none; a directory that cannot be made is not an error', () => {
    expect(run('')).toEqual({ status: 0, asked: [] });
    const file = join(dir, 'a-file');
    writeFileSync(file, '');
    expect(run(join(file, 'cache'))).toEqual({ status: 0, asked: [] });
  });

  test('a Node.js without it (20) starts as before and makes no directory', () => {
    const cache = join(dir, 'cache-b');
    expect(run(cache, false).status).toBe(0);
    expect(existsSync(join(cache, 'compile'))).toBe(
      typeof (nodeModule as { enableCompileCache?: unknown }).enableCompileCache === 'function',
    );
  });
});
