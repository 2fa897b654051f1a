#!/usr/bin/env node
// `hactl --version` answers here, before anything else is imported: loading @oclif/core and
// its configuration costs more than node's own start (issue 15). The line is oclif's
// (config.userAgent); only a possible WSL, where oclif says "wsl" for the platform, takes the
// long way.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import nodeModule from 'node:module';
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

/**
 * Node.js 22.1 and later can keep the compiled code of the modules a process loads
 * (module.enableCompileCache): 25-40 ms of every start of hactl on Node 22 and 24 (issue 15).
 * It is kept in hactl's cache directory, private like the others; Node checks each entry
 * against the module's source, and does not pass the cache on to the processes hactl starts.
 * `HACTL_CACHE_DIR=` (empty) or NODE_DISABLE_COMPILE_CACHE=1 turn it off. Node 20 has none.
 */
async function compileCache() {
  if (typeof nodeModule.enableCompileCache !== 'function') return;
  const { cacheFile } = await import('../dist/cli/util/cache-file.js');
  const dir = cacheFile(process.env, process.platform, 'compile');
  if (!dir) return;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    nodeModule.enableCompileCache(dir);
  } catch {
    // a cache that cannot be kept is not an error
  }
}

const version = fastVersion();
if (version) process.stdout.write(version);
else {
  const old = nodeTooOld();
  if (old) process.stderr.write(`warning: ${old}\n`);
  await compileCache();
  const ours = process.env.OCLIF_DISABLE_ENGINE_WARNING === undefined;
  if (ours) process.env.OCLIF_DISABLE_ENGINE_WARNING = '1';
  const { execute } = await import('@oclif/core');
  if (ours) delete process.env.OCLIF_DISABLE_ENGINE_WARNING; // not inherited by what hactl runs
  await execute({ dir: import.meta.url });
}
