// Loaded with `node --import` by the benchmark: reports the process's peak RSS (KiB) and the CPU
// it used (user + system, microseconds) on stderr.
import { writeSync } from 'node:fs';

process.on('exit', () => {
  try {
    const u = process.resourceUsage();
    writeSync(2, `@@maxrss ${u.maxRSS}\n@@cpu ${u.userCPUTime + u.systemCPUTime}\n`);
  } catch {
    /* stderr closed */
  }
});
