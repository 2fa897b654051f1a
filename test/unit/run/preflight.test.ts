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
