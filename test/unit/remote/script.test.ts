/** Script values: interpolations quoted by construction (run through a real sh), host paths under the root prefix. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cmd, hostPath, raw, render, script } from '../../../src/remote/script.js';

const run = (text: string) =>
  execFileSync('/bin/sh', ['-c', text], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin' } });
const HOSTILE = [
  '',
  'two words',
  "it's",
  '$(touch /tmp/hactl-pwned)',
  '`id`',
  'a\nb',
  '; echo injected',
  '*',
  '\\',
  '🙂',
];

describe('cmd``', () => {
  test.each(HOSTILE.map((s) => [JSON.stringify(s), s]))(
    'an interpolated %s reaches the command as one argument',
    (_l, x) => {
      expect(run(render(cmd`printf '%s|' ${x}`))).toBe(`${x}|`);
    },
  );

  test('a list interpolates as one argument per item; numbers are bare', () => {
    expect(run(render(cmd`printf '%s|' ${HOSTILE}`))).toBe(HOSTILE.map((x) => `${x}|`).join(''));
    expect(cmd`sleep ${0.05}`.text).toBe('sleep 0.05');
  });

  test('raw fragments and scripts splice as written; falsy steps are skipped', () => {
    const s = script(raw('a=1'), false, undefined, cmd`echo "$a" ${'$a'}`);
    expect(s.text).toBe('a=1\necho "$a" \'$a\'');
    expect(run(render(s))).toBe('1 $a\n');
  });
});

describe('host paths and the root prefix', () => {
  const root = mkdtempSync(join(tmpdir(), 'hactl-root-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  mkdirSync(join(root, 'etc', 'odd dir'), { recursive: true });
  writeFileSync(join(root, 'etc', 'odd dir', "it's.conf"), 'under the root\n');

  test('a host path renders under "$R": empty on real hosts, a directory in a sandbox', () => {
    const s = cmd`cat ${hostPath("/etc/odd dir/it's.conf")}`;
    expect(s.text).toBe(`cat "$R"'/etc/odd dir/it'\\''s.conf'`);
    expect(run(render(s, root))).toBe('under the root\n');
    expect(render(s)).toMatch(/^R=''\n/);
  });

  test('only absolute host paths', () => {
    expect(() => hostPath('etc/x')).toThrow(/absolute/);
  });
});
