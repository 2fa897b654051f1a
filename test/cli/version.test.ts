/**
 * `hactl --version` is answered by bin/run.js before oclif loads (start-up, issue 15): the line
 * must stay the one oclif would print, and every other argument still goes to oclif.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { Config } from '@oclif/core';
import { ROOT } from '../helpers/inventory.js';

const run = (...args: string[]) =>
  execFileSync(process.execPath, [join(ROOT, 'bin', 'run.js'), ...args], { encoding: 'utf8' });

test('the fast --version line is oclif config.userAgent', async () => {
  const config = await Config.load(ROOT);
  expect(run('--version')).toBe(`${config.userAgent}\n`);
});

test('other arguments still go to oclif', () => {
  expect(run('schema', '--help')).toMatch(/USAGE/);
});
