/** Preflight: what keepalived and nginx accept is not refused with a false reason. */
import { planHost } from '../../../src/plan/plan.js';
import { preflight } from '../../../src/run/preflight.js';
import { renderHost } from '../../../src/render/render.js';
import { factsOf } from '../../helpers/facts.js';
import { fixturePath, loadValid } from '../../helpers/inventory.js';

const inv = loadValid(fixturePath('active-passive.yaml'));
const c = inv.clusters[0];

function check(vipCidr: string, own: { family: 4 | 6; cidr: string }[]) {
  const [ip, prefix] = vipCidr.split('/');
  const family = ip.includes(':') ? 6 : 4;
  const cluster = {
    ...c,
    vips: [{ ...c.vips[0], cidr: vipCidr, ip, prefix: Number(prefix), family: family as 4 | 6 }],
  };
  const facts = factsOf({}, { addresses: own.map((a) => ({ iface: 'eth0', ...a })) });
  return preflight(cluster, c.lbs[0], facts, planHost(renderHost(cluster, c.lbs[0]), facts));
}

test('a VIP in the interface subnet passes; outside it is refused with the subnets named', () => {
  expect(check('10.0.0.100/24', [{ family: 4, cidr: '10.0.0.11/24' }])).toEqual([]);
  expect(check('10.9.9.9/24', [{ family: 4, cidr: '10.0.0.11/24' }])).toEqual([
    expect.stringMatching(/VIP 10\.9\.9\.9\/24 is outside the subnets of eth0 \(10\.0\.0\.11\/24\)/),
  ]);
});

test('a /32 VIP is a host address: accepted whatever the interface subnet', () => {
  expect(check('192.0.2.10/32', [{ family: 4, cidr: '10.0.0.11/24' }])).toEqual([]);
});

test('IPv6: a global VIP on an interface with only link-local passes; no IPv6 at all does not', () => {
  expect(check('fd00:213::121/64', [{ family: 6, cidr: 'fe80::1/64' }])).toEqual([]);
  expect(check('fd00:213::121/64', [{ family: 6, cidr: 'fd00:213::11/64' }])).toEqual([]);
  expect(check('fd00:213::121/64', [{ family: 4, cidr: '10.0.0.11/24' }])).toEqual([
    expect.stringMatching(/has no IPv6 address/),
  ]);
});

describe('a VIP on another interface than the VRRP one (dev: the public NIC, adverts on the private one)', () => {
  const ADDRS = [
    { iface: 'eth0', family: 4 as const, cidr: '10.0.0.11/24' },
    { iface: 'eth1', family: 4 as const, cidr: '198.18.1.11/24' },
  ];
  function checkDev(vipCidr: string, dev: string | undefined, links = ['lo', 'eth0', 'eth1'], more: string[] = []) {
    const [ip, prefix] = vipCidr.split('/');
    const lb = { ...c.lbs[0], interface: 'eth1', vrrpAddress: '198.18.1.11' };
    const vip = {
      ...c.vips[0],
      cidr: vipCidr,
      ip,
      prefix: Number(prefix),
      family: 4 as const,
      ...(dev ? { dev } : {}),
      ...(more.length
        ? {
            addresses: more.map((d) => ({
              cidr: '192.0.2.60/32',
              ip: '192.0.2.60',
              prefix: 32,
              family: 4 as const,
              dev: d,
            })),
          }
        : {}),
    };
    const cluster = { ...c, lbs: [lb, ...c.lbs.slice(1)], vips: [vip] };
    const facts = { ...factsOf({}, { addresses: ADDRS }), links };
    return preflight(cluster, lb, facts, planHost(renderHost(cluster, lb), facts));
  }

  test('the VIP fits the subnet of its dev, not of the VRRP interface', () => {
    expect(checkDev('10.0.0.121/24', 'eth0')).toEqual([]);
  });

  test('without dev the same VIP is refused on the VRRP interface, with the hint', () => {
    expect(checkDev('10.0.0.121/24', undefined)).toEqual([
      expect.stringMatching(/VIP 10\.0\.0\.121\/24 is outside the subnets of eth1 \(198\.18\.1\.11\/24\).*dev:/),
    ]);
  });

  test("a VIP outside its dev's subnet is refused, naming that interface", () => {
    expect(checkDev('10.9.9.121/24', 'eth0')).toEqual([
      expect.stringMatching(/VIP 10\.9\.9\.121\/24 is outside the subnets of eth0 \(10\.0\.0\.11\/24\)/),
    ]);
  });

  test('a dev the host does not have is refused, for the VIP and for its other addresses', () => {
    expect(checkDev('10.0.0.121/24', 'eth2')).toEqual([
      expect.stringMatching(/vip1? has an address on eth2, which does not exist \(interfaces: eth0, eth1\)/),
    ]);
    expect(checkDev('10.0.0.121/24', 'eth0', ['lo', 'eth0', 'eth1'], ['uplink0'])).toEqual([
      expect.stringMatching(/has an address on uplink0, which does not exist/),
    ]);
  });
});
