#!/usr/bin/env node
// `hactl --version` answers here, before anything else is imported: loading @oclif/core and
// its configuration costs more than node's own start (issue 15). The line is oclif's
// (config.userAgent); only a possible WSL, where oclif says "wsl" for the platform, takes the
// long way.
import { existsSync, readFileSync } from 'node:fs';
import { arch, release } from 'node:os';

function fastVersion() {
  if (process.argv[2] !== '--version') return undefined;
  if (process.platform === 'linux') {
    let proc = '';
    try {
      proc = readFileSync('/proc/version', 'utf8');
    } catch {
      // no /proc: decided by the other signs
    }
    if (
      `${release()} ${proc}`.toLowerCase().includes('microsoft') ||
      existsSync('/proc/sys/fs/binfmt_misc/WSLInterop') ||
      existsSync('/run/WSL')
    )
      return undefined;
  }
  const pjson = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
  const cpu = arch() === 'ia32' ? 'x86' : arch();
  return `${pjson.name}/${pjson.version} ${process.platform}-${cpu} node-${process.version}\n`;
}

const version = fastVersion();
if (version) process.stdout.write(version);
else {
  const { execute } = await import('@oclif/core');
  await execute({ dir: import.meta.url });
}
