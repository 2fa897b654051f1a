/**
 * Running nginx as it is installed: the distribution's package through its service, or a
 * build under its own prefix run directly with `-p PREFIX/ -c CONF`, as a source build is
 * started, reloaded and stopped (`nginx`, `nginx -s reload`, `nginx -s stop`). The -p/-c pair
 * is always given, so a binary whose compiled-in paths point elsewhere still reads its own.
 */
import type { NginxLayout } from '../inventory/model.js';
import type { ServiceManager } from '../remote/sections/host.js';
import { cmd, hostPath, type HostPath } from '../remote/script.js';
import { serviceCommand } from './service.js';

export type NginxArgv = readonly (string | HostPath)[];

/**
 * argv of the nginx binary with `args` (`-t`, `-v`, `-s reload`; none to start it). A prefix
 * build's binary is a host path (under the root prefix in a test sandbox).
 */
export function nginxArgv(layout: NginxLayout, args: string[] = []): NginxArgv {
  if (layout.kind === 'package') return ['nginx', ...args];
  return [hostPath(layout.binary), '-p', `${layout.prefix}/`, '-c', layout.conf, ...args];
}

const line = (argv: NginxArgv) => cmd`${argv}`.text;

export type NginxAction = 'start' | 'stop' | 'reload' | 'enable';

/** The command line that starts, stops, reloads or enables nginx on this host. */
export function nginxControl(layout: NginxLayout, sm: ServiceManager, action: NginxAction): string {
  if (layout.kind === 'package') return serviceCommand(sm, action, 'nginx');
  switch (action) {
    case 'start':
      return line(nginxArgv(layout));
    case 'stop':
      return line(nginxArgv(layout, ['-s', 'stop']));
    case 'reload':
      return line(nginxArgv(layout, ['-s', 'reload']));
    case 'enable':
      // A build under its own prefix has no service: starting it at boot is the host's init's job.
      return 'true';
  }
}

export function nginxSiteFile(layout: NginxLayout, cluster: string): string {
  return `${layout.includeDir}/hactl-${cluster}.conf`;
}
