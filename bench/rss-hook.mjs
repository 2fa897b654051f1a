// Loaded with `node --import` by the benchmark: reports the process's peak RSS (KiB) on stderr.
import { writeSync } from 'node:fs';

process.on('exit', () => {
  try {
    writeSync(2, `@@maxrss ${process.resourceUsage().maxRSS}\n`);
  } catch {
    /* stderr closed */
  }
});
