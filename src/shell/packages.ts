/** Installing packages with the host's package manager, as one quoted command line. */
import type { PackageManager } from '../remote/sections/host.js';
import { sh } from './quote.js';

export function installCommand(pm: PackageManager | undefined, packages: readonly string[]): string {
  switch (pm) {
    case 'apt-get': {
      // Try without touching the network first; refresh the lists only if that fails (a new
      // server's lists are often empty or stale).
      const install = sh(['apt-get', 'install', '-y', '-q', '--no-install-recommends', ...packages]);
      return `export DEBIAN_FRONTEND=noninteractive; ${install} || { apt-get update -q && ${install}; }`;
    }
    case 'dnf':
    case 'yum':
      return sh([pm, 'install', '-y', ...packages]);
    default:
      return `echo 'no supported package manager (apt-get, dnf, yum)' >&2; false`;
  }
}
