/** The notify script keepalived runs per VRRP event, run by a real sh: an older event never overwrites a newer one. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderTemplate } from '../../../src/render/engine.js';

const dir = mkdtempSync(join(tmpdir(), 'hactl-notify-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const script = join(dir, 'notify.sh');
writeFileSync(script, renderTemplate('notify.sh.hbs', { state_dir: join(dir, 'state') }));
const notify = (...args: string[]) => execFileSync('sh', [script, ...args]);
const state = () =>
  readFileSync(join(dir, 'state', 'vip1'), 'utf8')
    .split(' ')
    .slice(0, 2)
    .join(' ');

test('events in order: the last one wins', () => {
  notify('INSTANCE', 'vip1', 'FAULT', '150');
  expect(state()).toBe('FAULT 150');
  notify('INSTANCE', 'vip1', 'BACKUP', '150');
  expect(state()).toBe('BACKUP 150');
});

test('a script started before the recorded event (a slower, older event) does not overwrite it', () => {
  writeFileSync(join(dir, 'state', '.vip1.seq'), '999999999999 1\n');
  notify('INSTANCE', 'vip1', 'FAULT', '150');
  expect(state()).toBe('BACKUP 150');
});

test('GROUP events and hostile names are ignored', () => {
  notify('GROUP', 'g1', 'MASTER', '0');
  notify('INSTANCE', '../x', 'MASTER', '0');
  expect(
    execFileSync('ls', ['-A', join(dir, 'state')], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .sort(),
  ).toEqual(['.lock', '.vip1.seq', 'vip1']);
});
