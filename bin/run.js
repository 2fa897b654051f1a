#!/usr/bin/env node
// `hactl --version` answers here, before anything else is imported: loading @oclif/core and
// its configuration costs more than node's own start (issue 15). The line is oclif's
// (config.userAgent); only a possible WSL, where oclif says "wsl" for the platform, takes the
// long way.
import { existsSync, readFileSync } from 'node:fs';
import { arch, release } from 'node:os';

const packageJson = () => JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));

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
  const pjson = packageJson();
  const cpu = arch() === 'ia32' ? 'x86' : arch();
  return `${pjson.name}/${pjson.version} ${process.platform}-${cpu} node-${process.version}\n`;
}

/**
 * Importing @oclif/core checks node against oclif's own engines with all of semver (13 ms of
 * every start). hactl checks its own engines.node (">=20.11", the stricter one) here instead,
 * and tells oclif to skip its check for this process only.
 */
function nodeTooOld() {
  const pjson = packageJson();
  const want = /^>=\s*(\d+)\.(\d+)/.exec(pjson.engines?.node ?? '');
  if (!want) return undefined;
  const [major, minor] = process.versions.node.split('.').map(Number);
  const [wantMajor, wantMinor] = [Number(want[1]), Number(want[2])];
  return major < wantMajor || (major === wantMajor && minor < wantMinor)
    ? `hactl needs Node.js ${wantMajor}.${wantMinor} or later (engines.node "${pjson.engines.node}"); this is Node.js ${process.versions.node}. Install a newer Node.js.`
    : undefined;
}

const version = fastVersion();
if (version) process.stdout.write(version);
else {
  const old = nodeTooOld();
  if (old) process.stderr.write(`warning: ${old}\n`);
  const ours = process.env.OCLIF_DISABLE_ENGINE_WARNING === undefined;
  if (ours) process.env.OCLIF_DISABLE_ENGINE_WARNING = '1';
  const { execute } = await import('@oclif/core');
  if (ours) delete process.env.OCLIF_DISABLE_ENGINE_WARNING; // not inherited by what hactl runs
  await execute({ dir: import.meta.url });
}
