/** HostFacts as the facts sections produce them, built directly for pure tests (defaults: a healthy, configured host). */
import type { HostFacts } from '../../src/remote/facts.js';
import type { HostAddress } from '../../src/remote/sections/host.js';

export interface FactsOptions {
  keepalived?: boolean;
  nginx?: boolean;
  /** Extra addresses on eth0 (VIPs), as cidr. */
  addrs?: string[];
  own?: string;
  /** Notify states: "vip1 MASTER 150 0". */
  vrrp?: string[];
}

export function factsOf(o: FactsOptions = {}, over: Partial<HostFacts> = {}): HostFacts {
  const addresses: HostAddress[] = [
    { iface: 'lo', family: 4, cidr: '127.0.0.1/8' },
    { iface: 'eth0', family: 4, cidr: o.own ?? '10.0.0.11/24' },
    ...(o.addrs ?? []).map((cidr) => ({ iface: 'eth0', family: 4 as const, cidr })),
  ];
  const notified = Object.fromEntries(
    (o.vrrp ?? []).map((l) => {
      const [name, state, priority, since] = l.split(' ');
      return [name, { state, priority: Number(priority), since: Number(since) }];
    }),
  );
  return {
    os: {
      id: 'debian',
      like: '',
      version: '12',
      codename: 'bookworm',
      packageManager: 'apt-get',
      serviceManager: 'sysvinit',
    },
    programs: {
      keepalived: { path: '/usr/sbin/keepalived', version: '2.2.7' },
      nginx: { path: '/usr/sbin/nginx', version: '1.22.1' },
      curl: { path: '/usr/bin/curl' },
    },
    sysctl: { 'net.ipv4.ip_nonlocal_bind': '1' },
    links: ['lo', 'eth0'],
    addresses,
    files: {},
    managed: [],
    running: { keepalived: o.keepalived ?? true, nginx: o.nginx ?? true },
    notified,
    ...over,
  };
}
