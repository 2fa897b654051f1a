/**
 * The CLI renders from templates precompiled at build time (scripts/gen-templates.mjs) with
 * handlebars' runtime; ts-jest and edited templates compile from source. Both must give the
 * same bytes and the same strictness, and a stale precompiled entry must never be used.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import Handlebars from 'handlebars';
import {
  COMPILE_OPTIONS,
  compileTemplate,
  sourceHash,
  useTemplates,
  type Precompiled,
} from '../../../src/render/engine.js';
import { renderInventory } from '../../../src/render/render.js';
import { fixturePath, loadValid, ROOT } from '../../helpers/inventory.js';

const names = readdirSync(join(ROOT, 'templates')).filter((n) => n.endsWith('.hbs'));
const source = (n: string) => readFileSync(join(ROOT, 'templates', n), 'utf8');
// What the build writes: the spec as JavaScript source, evaluated as require() of the generated
// module would.
const precompile = (src: string) => (0, eval)(`(${Handlebars.precompile(src, COMPILE_OPTIONS)})`);
const table: Precompiled = Object.fromEntries(
  names.map((n) => [n, { hash: sourceHash(source(n)), spec: precompile(source(n)) }]),
);
const scenarios = ['active-passive', 'three-lbs', 'dual-master', 'unicast'];
const renderAll = () =>
  scenarios.flatMap((s) =>
    renderInventory(loadValid(fixturePath(`${s}.yaml`))).flatMap((r) =>
      r.files.map((f) => `${r.lb.name}:${f.path}\n${f.content}`),
    ),
  );

afterAll(() => useTemplates(undefined));

describe('precompiled templates', () => {
  it('render byte-identical to compiling the source, for every scenario', () => {
    useTemplates(table);
    const pre = renderAll();
    useTemplates({});
    const fresh = renderAll();
    expect(pre.length).toBeGreaterThan(20);
    expect(pre).toEqual(fresh);
  });

  it('are used only while the template source still matches', () => {
    for (const n of names) {
      expect(compileTemplate(n, source(n), table).precompiled).toBe(true);
      expect(compileTemplate(n, `${source(n)}# edited\n`, table).precompiled).toBe(false);
      expect(compileTemplate(n, source(n), {}).precompiled).toBe(false);
    }
  });

  it('stay strict: a value the context lacks is an error in both forms', () => {
    const src = 'vip {{address}}\n';
    const stale: Precompiled = { 't.hbs': { hash: sourceHash(src), spec: precompile(src) } };
    for (const t of [compileTemplate('t.hbs', src, stale), compileTemplate('t.hbs', src, {})]) {
      expect(t.fn({ address: '10.0.0.1' })).toBe('vip 10.0.0.1\n');
      expect(() => t.fn({})).toThrow(/"address" not defined/);
    }
  });

  // `npm test` builds first, so there the build's own table must exist and be current.
  const built = join(ROOT, 'dist', 'templates.precompiled.cjs');
  (existsSync(built) || process.env.npm_lifecycle_event === 'test' ? it : it.skip)(
    'the build precompiled every template from its current source',
    () => {
      const fromBuild = createRequire(import.meta.url)(built) as Precompiled;
      expect(Object.keys(fromBuild).sort()).toEqual([...names].sort());
      for (const n of names) expect(compileTemplate(n, source(n), fromBuild).precompiled).toBe(true);
    },
  );
});
