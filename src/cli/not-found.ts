/**
 * `hactl valdate`: a usage error (exit 2, as the README's table says), naming the command meant.
 * oclif's plugin-not-found was tried and not kept: without a terminal it names no suggestion
 * and exits 127, under --json it prints no document, and on a terminal it offers to run its
 * guess, which for deploy or failover-test is not a guess to make for the operator.
 */
import { toConfiguredId, type Hook } from '@oclif/core';
import { closest } from '../util/edit-distance.js';

const hook: Hook<'command_not_found'> = async function (opts) {
  const ids = opts.config.commands.filter((c) => !c.hidden).flatMap((c) => [c.id, ...c.aliases]);
  const typed = toConfiguredId(opts.id, opts.config);
  const near = closest(opts.id, ids);
  const suggestion = near ? ` Did you mean ${toConfiguredId(near, opts.config)}?` : '';
  const message = `"${typed}" is not a ${opts.config.bin} command.${suggestion} ${opts.config.bin} --help lists them all.`;
  if (opts.argv?.includes('--json'))
    process.stdout.write(`${JSON.stringify({ ok: false, error: { code: 'usage', message } }, null, 2)}\n`);
  process.stderr.write(`${opts.config.bin}: ${message}\n`);
  this.exit(2);
};

export default hook;
