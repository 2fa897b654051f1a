// node --import this file: every module the process loads (ESM through a load hook, CommonJS
// through Module.prototype._compile) is appended to $HACTL_LOAD_LOG as one line, and at exit
// whether OCLIF_DISABLE_ENGINE_WARNING is still set. Used by test/cli/startup.test.ts.
import { appendFileSync } from 'node:fs';
import Module, { register } from 'node:module';

const log = process.env.HACTL_LOAD_LOG;
register(new URL('./hooks.mjs', import.meta.url));
const compile = Module.prototype._compile;
Module.prototype._compile = function (content, filename) {
  appendFileSync(log, `cjs ${filename}\n`);
  return compile.call(this, content, filename);
};
process.on('exit', () =>
  appendFileSync(log, `env OCLIF_DISABLE_ENGINE_WARNING=${process.env.OCLIF_DISABLE_ENGINE_WARNING ?? '(unset)'}\n`),
);
