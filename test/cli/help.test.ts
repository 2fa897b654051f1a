/**
 * Every command's help as a user reads it: paragraphs without hard line breaks (the terminal
 * wraps them), examples a user can run (no paths into hactl's own checkout), and exit codes
 * stated with the meanings of the README's table.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Deploy from '../../commands/deploy.js';
import FailoverTest from '../../commands/failover-test.js';
import Init from '../../commands/init.js';
import LabBuildImages from '../../commands/lab/build-images.js';
import LabCleanCache from '../../commands/lab/clean-cache.js';
import LabDown from '../../commands/lab/down.js';
import LabStatus from '../../commands/lab/status.js';
import LabUp from '../../commands/lab/up.js';
import Render from '../../commands/render.js';
import Schema from '../../commands/schema.js';
import Status from '../../commands/status.js';
import Validate from '../../commands/validate.js';
import Verify from '../../commands/verify.js';
import { ROOT } from '../helpers/inventory.js';

const COMMANDS = {
  deploy: Deploy,
  'failover-test': FailoverTest,
  init: Init,
  'lab build-images': LabBuildImages,
  'lab clean-cache': LabCleanCache,
  'lab down': LabDown,
  'lab status': LabStatus,
  'lab up': LabUp,
  render: Render,
  schema: Schema,
  status: Status,
  validate: Validate,
  verify: Verify,
};

const readmeCodes = () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const table = readme.slice(readme.indexOf('### Exit codes'), readme.indexOf('## How deploy works'));
  return [...table.matchAll(/^\| (\d+) \|/gm)].map((m) => Number(m[1]));
};

test("the README's exit codes are 0, 1, 2 and 130", () => {
  expect(readmeCodes()).toEqual([0, 1, 2, 130]);
});

describe.each(Object.entries(COMMANDS))('hactl %s --help', (_name, cmd) => {
  const description = cmd.description ?? '';

  test('paragraphs without hard line breaks', () => {
    for (const p of description.split('\n\n')) expect(p).not.toContain('\n');
  });

  test('exit codes stated, each one the README has, usage errors as 2', () => {
    const line = /^Exit codes: (.*)$/m.exec(description)?.[1] ?? '';
    const codes = [...line.matchAll(/(?:^|, )(\d+) /g)].map((m) => Number(m[1]));
    expect(codes.length).toBeGreaterThan(1);
    for (const c of codes) expect(readmeCodes()).toContain(c);
    expect(line).toMatch(/2 (inventory or )?usage error/);
  });

  test('examples a user can run: long flags, no paths into the checkout', () => {
    for (const e of (cmd.examples ?? []) as string[]) {
      expect(e).toMatch(/^<%= config.bin %> /);
      expect(e).not.toMatch(/examples\/|schema\/|README|test\/|bench\//);
    }
  });
});
