/** Service control for the init systems hactl supports, as quoted command lines. */
import type { ServiceManager } from '../remote/sections/host.js';
import { sh } from './quote.js';

export type ServiceAction = 'reload' | 'start' | 'stop' | 'enable';

export function serviceCommand(sm: ServiceManager, action: ServiceAction, svc: string): string {
  switch (sm) {
    case 'systemd':
      return sh(['systemctl', action, svc]);
    case 'openrc':
      return action === 'enable' ? sh(['rc-update', 'add', svc, 'default']) : sh(['rc-service', svc, action]);
    case 'sysvinit':
      // Runlevel links come with the package; `service` has no enable.
      return action === 'enable' ? 'true' : sh(['service', svc, action]);
  }
}
