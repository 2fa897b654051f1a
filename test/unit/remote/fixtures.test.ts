/**
 * Every section against the output real hosts printed for it (test/fixtures/remote): the
 * script is still the one recorded (else re-record: RECORD_FIXTURES=1 npm run test:e2e --
 * remote-fixtures), and the parser still makes of that output what it made then.
 */
import { parseSections, joinSections } from '../../../src/remote/section.js';
import { loadFixtures, plain, SECTIONS } from '../../helpers/remote-fixtures.js';

const fixtures = loadFixtures();

test('every section has at least one recorded fixture', () => {
  const recorded = new Set(fixtures.map((f) => f.section));
  expect(Object.keys(SECTIONS).filter((s) => !recorded.has(s))).toEqual([]);
});

test.each(fixtures.map((f) => [`${f.section}/${f.case}`, f]))('%s', (_name, f) => {
  const section = SECTIONS[f.section](f.args);
  expect(joinSections([section]).text).toBe(f.script);
  const [parsed] = parseSections([section] as const, f.output);
  expect(plain(parsed)).toEqual(f.parsed);
});
