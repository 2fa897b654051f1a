/**
 * The hostile corpus (hostile-corpus.ts) through validate and render. Every case runs
 * in-process through the same calls the commands make (validate: loadInventoryFile without
 * required secrets; render: loadInventory, then renderInventory and writeRenders), asserting
 * the exit code, the problem's file:line:col and YAML path, no stack trace, nothing written and
 * no secret in the output. The cases marked cli also run through the built CLI
 * (node bin/run.js, ~0.4 s each), so the commands' own printing and exit codes are covered.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadInventory, loadInventoryFile } from '../../../src/inventory/load.js';
import { InventoryError, formatProblem, type Problem } from '../../../src/inventory/problems.js';
import { renderInventory } from '../../../src/render/render.js';
import { writeRenders } from '../../../src/render/write.js';
import { ROOT } from '../../helpers/inventory.js';
import { ACCEPTED, BASE, ENV, EXIT, REFUSED, SECRET_MARK, type Case } from './hostile-corpus.js';

const dir = mkdtempSync(join(tmpdir(), 'hactl-hostile-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function applyEdits(edit: [string, string][]): string {
  let text = BASE;
  for (const [from, to] of edit) {
    if (!text.includes(from)) throw new Error(`the corpus edit expects ${JSON.stringify(from)} in BASE`);
    text = text.replace(from, to);
  }
  return text;
}

function fileOf(c: Case, i: number): { path: string; text: string } {
  const content = c.file ?? applyEdits(c.edit ?? []);
  const path = join(dir, `case-${i}.yaml`);
  writeFileSync(path, typeof content === 'string' && c.latin1 ? Buffer.from(content, 'latin1') : content);
  return { path, text: typeof content === 'string' ? content.replace(/^\uFEFF/, '') : '' };
}

function expectedPlace(c: Case, text: string): [number, number] {
  if (Array.isArray(c.at)) return c.at;
  const i = text.indexOf(c.at);
  if (i < 0) throw new Error(`the corpus location ${JSON.stringify(c.at)} is not in the file`);
  const before = text.slice(0, i);
  return [before.split('\n').length, i - before.lastIndexOf('\n')];
}

const STACK = /\n\s+at .+:\d+:\d+\)?|\b(TypeError|ReferenceError|RangeError|SyntaxError):/;

interface Run {
  exit: number;
  output: string;
  problems: Problem[];
}

function validate(file: string, env: NodeJS.ProcessEnv): Run {
  const { inventory, problems } = loadInventoryFile(file, { env, requireSecrets: false });
  const ok = inventory !== undefined && problems.every((p) => p.severity !== 'error');
  return { exit: ok ? EXIT.ok : EXIT.validateInvalid, output: problems.map(formatProblem).join('\n'), problems };
}

function render(file: string, env: NodeJS.ProcessEnv, out: string): Run {
  try {
    const { inventory, warnings } = loadInventory(file, { env });
    const written = writeRenders(out, renderInventory(inventory));
    return { exit: EXIT.ok, output: written.map((w) => w.file).join('\n'), problems: warnings };
  } catch (e) {
    if (!(e instanceof InventoryError)) throw e; // anything else would be a stack trace
    return { exit: EXIT.renderInvalid, output: e.message, problems: e.problems };
  }
}

function expectClean(output: string, secrets: string[]) {
  expect(output).not.toMatch(STACK);
  for (const s of secrets) expect(output).not.toContain(s);
}

describe('hostile inventories are refused at the right place, with nothing written and no secret shown', () => {
  it('the corpus has at least 60 cases', () => expect(REFUSED.length).toBeGreaterThanOrEqual(60));

  it.each(REFUSED.map((c, i) => [c.name, c, i] as const))('%s', (_name, c, i) => {
    const { path, text } = fileOf(c, i);
    const env = c.env ?? ENV;
    const [line, col] = expectedPlace(c, text);
    const out = join(dir, `out-${i}`);
    const runs = { validate: validate(path, env), render: render(path, env, out) };
    for (const [command, run] of Object.entries(runs)) {
      const hit = run.problems.find((p) => p.rule === c.rule && c.message.test(p.message));
      if (!hit) throw new Error(`${command}: expected [${c.rule}] ${c.message}, got:\n${run.output}`);
      expect({ command, path: hit.path, at: [hit.line, hit.col] }).toEqual({ command, path: c.path, at: [line, col] });
      expect(run.output).toContain(`${path}:${line}:${col} `);
      expect(run.output.length).toBeLessThan(40000);
      expectClean(run.output, [SECRET_MARK, ...(c.secrets ?? [])]);
    }
    expect(runs.validate.exit).toBe(c.exit?.validate ?? EXIT.validateInvalid);
    expect(runs.render.exit).toBe(c.exit?.render ?? EXIT.renderInvalid);
    expect(existsSync(out)).toBe(false);
  });
});

describe('what keepalived and nginx accept is rendered as written', () => {
  it.each(ACCEPTED.map((a, i) => [a.name, a, i] as const))('%s', (_name, a, i) => {
    const path = join(dir, `accepted-${i}.yaml`);
    writeFileSync(path, applyEdits(a.edit));
    const v = validate(path, ENV);
    expect(v.problems.filter((p) => p.severity === 'error')).toEqual([]);
    const out = join(dir, `accepted-out-${i}`);
    const r = render(path, ENV, out);
    expect(r.exit).toBe(EXIT.ok);
    expectClean(v.output + r.output, [SECRET_MARK]);
    expect(readFileSync(join(out, 'lb1', a.file), 'utf8').split('\n')).toContain(a.line);
  });
});

function cli(args: string[], env: NodeJS.ProcessEnv): Promise<{ exit: number; output: string }> {
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('HACTL_')));
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(ROOT, 'bin', 'run.js'), ...args],
      { env: { ...clean, ...env, NO_COLOR: '1' }, maxBuffer: 16 * 1024 * 1024, timeout: 60000 },
      (err, stdout, stderr) =>
        resolve({ exit: err ? Number((err as { code?: number }).code ?? 1) : 0, output: stdout + stderr }),
    );
  });
}

/** The CLI's bundle must be built from these sources (npm test builds first). */
function distIsStale(): boolean {
  const built = join(ROOT, 'dist', 'cli', 'commands', 'validate.js');
  if (!existsSync(built)) return true;
  const src = join(ROOT, 'src', 'inventory');
  const newest = Math.max(...readdirSync(src).map((f) => statSync(join(src, f)).mtimeMs));
  return newest > statSync(built).mtimeMs;
}

describe('the built CLI, for a representative subset', () => {
  const subset = REFUSED.map((c, i) => ({ c, i })).filter(({ c }) => c.cli);
  beforeAll(() => {
    if (distIsStale()) throw new Error('dist/ is older than src/inventory: run npm run build first');
  });

  it(`runs validate and render on ${subset.length} hostile files`, async () => {
    const jobs = subset.map(({ c, i }) => async () => {
      const { path, text } = fileOf(c, 1000 + i);
      const [line, col] = expectedPlace(c, text);
      const out = join(dir, `cli-out-${i}`);
      const env = c.env ?? ENV;
      const v = await cli(['validate', '-i', path], env);
      const r = await cli(['render', '-i', path, '--out', out], env);
      return { c, where: `${path}:${line}:${col} `, v, r, written: existsSync(out) };
    });
    const results = [];
    for (let k = 0; k < jobs.length; k += 2) results.push(...(await Promise.all(jobs.slice(k, k + 2).map((j) => j()))));
    for (const { c, where, v, r, written } of results) {
      expect({ name: c.name, validate: v.exit, render: r.exit, written }).toEqual({
        name: c.name,
        validate: c.exit?.validate ?? EXIT.validateInvalid,
        render: c.exit?.render ?? EXIT.renderInvalid,
        written: false,
      });
      for (const run of [v, r]) {
        expect(run.output).toContain(where);
        expect(run.output).toContain(`${c.path}:`);
        expectClean(run.output, [SECRET_MARK, ...(c.secrets ?? [])]);
      }
    }
  }, 120000);

  it('renders an accepted one', async () => {
    const a = ACCEPTED.find((x) => x.cli)!;
    const path = join(dir, 'cli-accepted.yaml');
    writeFileSync(path, applyEdits(a.edit));
    const out = join(dir, 'cli-accepted-out');
    const r = await cli(['render', '-i', path, '--out', out], ENV);
    expect(r.exit).toBe(EXIT.ok);
    expectClean(r.output, [SECRET_MARK]);
    expect(readFileSync(join(out, 'lb1', a.file), 'utf8').split('\n')).toContain(a.line);
  });
});
