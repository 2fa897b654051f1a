// node --import this file: module.enableCompileCache (Node.js 22.1 and later) as a recorder
// that appends the directory it is given to $HACTL_CC_LOG, so test/cli/startup.test.ts can
// see what bin/run.js asks of it on Node 20, which has no compile cache.
import { appendFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const nodeModule = createRequire(import.meta.url)('node:module');
nodeModule.enableCompileCache = (dir) => {
  appendFileSync(process.env.HACTL_CC_LOG, `${dir}\n`);
  return { status: 1, directory: dir };
};
