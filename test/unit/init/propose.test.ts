/** Pure proposals from discovered facts: interface, free VIPs, unseen VRIDs, priorities. */
import type { DiscoveryFacts as HostFacts } from '../../../src/remote/sections/discovery.js';
import {
  propose,
  proposeInterface,
  proposePriorities,
  proposeVips,
  proposeVrids,
  usedAddresses,
} from '../../../src/init/propose.js';

function host(addrs: [string, string, number, boolean?][], extra: Partial<HostFacts> = {}): HostFacts {
  const byIf = new Map<string, HostFacts['interfaces'][number]>();
  byIf.set('lo', {
    name: 'lo',
    up: true,
    loopback: true,
    addrs: [{ ip: '127.0.0.1', prefix: 8, secondary: false, scope: 'host' }],
  });
  for (const [name, ip, prefix, secondary] of addrs) {
    const i = byIf.get(name) ?? { name, up: true, loopback: false, addrs: [] };
    i.addrs.push({ ip, prefix, secondary: secondary ?? false, scope: 'global' });
    byIf.set(name, i);
  }
  return {
    interfaces: [...byIf.values()],
    neighbours: [],
    vrids: [],
    listen: { method: 'python3', ok: true, seconds: 3 },
    ...extra,
  };
}

describe('proposeInterface', () => {
  test('the interface holding the SSH address', () => {
    const p = proposeInterface(
      { name: 'lb1', address: '10.0.0.11' },
      host([
        ['mgmt0', '172.16.0.5', 16],
        ['eth1', '10.0.0.11', 24],
      ]),
    );
    expect(p).toMatchObject({ iface: 'eth1', own: { ip: '10.0.0.11', prefix: 24 } });
    expect(p.why).toMatch(/eth1 holds 10.0.0.11\/24/);
  });

  test('a DNS name: the only usable interface, else no proposal', () => {
    expect(proposeInterface({ name: 'lb1', address: 'lb1.example.com' }, host([['eth0', '10.0.0.11', 24]])).iface).toBe(
      'eth0',
    );
    const two = proposeInterface(
      { name: 'lb1', address: 'lb1.example.com' },
      host([
        ['eth0', '10.0.0.11', 24],
        ['eth1', '10.1.0.11', 24],
      ]),
    );
    expect(two.iface).toBeUndefined();
    expect(two.why).toMatch(/several.*eth0, eth1/);
  });
});

describe('proposeVips', () => {
  test('the highest free addresses below .250 in a /24', () => {
    expect(proposeVips({ ip: '10.0.0.11', prefix: 24 }, new Set(['10.0.0.249']), 2)).toEqual([
      '10.0.0.248/24',
      '10.0.0.247/24',
    ]);
  });

  test('larger and smaller subnets; .250 and up only when nothing else is free', () => {
    expect(proposeVips({ ip: '172.16.3.4', prefix: 16 }, new Set(), 1)).toEqual(['172.16.255.249/16']);
    expect(proposeVips({ ip: '10.0.0.1', prefix: 29 }, new Set(['10.0.0.1', '10.0.0.2']), 1)).toEqual(['10.0.0.6/29']);
    expect(proposeVips({ ip: '10.0.0.253', prefix: 30 }, new Set(['10.0.0.253']), 1)).toEqual(['10.0.0.254/30']);
  });

  test('never the network or broadcast address, nothing in a full subnet or a /31', () => {
    expect(proposeVips({ ip: '10.0.0.1', prefix: 30 }, new Set(['10.0.0.1', '10.0.0.2']), 1)).toEqual([]);
    expect(proposeVips({ ip: '10.0.0.0', prefix: 31 }, new Set(), 1)).toEqual([]);
  });
});

describe('proposeVrids and priorities', () => {
  test('VRIDs from 51 upward, skipping those seen; wraps to 1', () => {
    expect(proposeVrids([51, 53], 2)).toEqual([52, 54]);
    expect(proposeVrids([], 1)).toEqual([51]);
    expect(
      proposeVrids(
        Array.from({ length: 205 }, (_, i) => 51 + i),
        1,
      ),
    ).toEqual([1]);
  });

  test('master 150, then 100, 90 in order', () => {
    expect(proposePriorities(['a', 'b', 'c'], 'b')).toEqual({ b: 150, a: 100, c: 90 });
  });
});

describe('propose', () => {
  const lbs = [
    { name: 'lb1', address: '10.0.0.11' },
    { name: 'lb2', address: '10.0.0.12' },
  ];

  test('active-passive: interface, a VIP avoiding every address seen, an unseen VRID', () => {
    const facts = new Map([
      [
        'lb1',
        host(
          [
            ['eth0', '10.0.0.11', 24],
            ['eth0', '10.0.0.249', 24, true],
          ],
          {
            neighbours: [{ ip: '10.0.0.248', dev: 'eth0' }],
            vrids: [{ vrid: 51, source: 'advert', iface: 'eth0', from: '10.0.0.5', vips: ['10.0.0.247'] }],
          },
        ),
      ],
      ['lb2', host([['eth0', '10.0.0.12', 24]], { vrids: [{ vrid: 52, source: 'keepalived.conf' }] })],
    ]);
    const p = propose(lbs, facts, 'active-passive', ['10.0.0.246']);
    expect(p.interface).toBe('eth0');
    expect(p.vips).toEqual(['10.0.0.245/24']);
    expect(p.vrids).toEqual([53]);
    expect([...p.seenVrids.keys()]).toEqual([51, 52]);
    expect(p.seenVrids.get(51)![0]).toMatch(/advert from 10.0.0.5 on eth0/);
    expect(p.notes).toEqual([]);
  });

  test('dual-master: two VIPs and two VRIDs', () => {
    const facts = new Map([
      ['lb1', host([['eth0', '10.0.0.11', 24]])],
      ['lb2', host([['eth0', '10.0.0.12', 24]])],
    ]);
    const p = propose(lbs, facts, 'dual-master');
    expect(p.vips).toEqual(['10.0.0.249/24', '10.0.0.248/24']);
    expect(p.vrids).toEqual([51, 52]);
  });

  test('notes a split segment and hosts where nothing could listen', () => {
    const facts = new Map([
      ['lb1', host([['eth0', '10.0.0.11', 24]])],
      ['lb2', host([['eth0', '10.0.1.12', 24]], { listen: { method: 'none', ok: false, seconds: 0 } })],
    ]);
    const p = propose([lbs[0], { name: 'lb2', address: '10.0.1.12' }], facts, 'active-passive');
    expect(p.notes.join('\n')).toMatch(/10.0.1.12\/24 is not in the subnet of 10.0.0.11\/24/);
    expect(p.notes.join('\n')).toMatch(/neither python3 nor tcpdump/);
  });

  test('usedAddresses collects host, neighbour, advert and extra addresses', () => {
    const u = usedAddresses(
      [
        host([['eth0', '10.0.0.11', 24]], {
          neighbours: [{ ip: '10.0.0.1', dev: 'eth0' }],
          vrids: [{ vrid: 9, source: 'advert', vips: ['10.0.0.60'] }],
        }),
      ],
      ['10.0.0.10', 'web.example'],
    );
    expect([...u].sort()).toEqual(['10.0.0.1', '10.0.0.10', '10.0.0.11', '10.0.0.60', '127.0.0.1']);
  });
});
