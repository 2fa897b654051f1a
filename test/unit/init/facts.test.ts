/** The discovery fact: script text and pure parsers of its output. */
import {
  discoveryFacts,
  discoverySections,
  parseAdverts,
  parseIpAddrJson,
  parseIpAddrOneline,
  parseKeepalivedVrids,
  parseNeighJson,
} from '../../../src/remote/sections/discovery.js';
import { joinSections, parseSections } from '../../../src/remote/section.js';

/** The discovery sections' output → facts, as gather() hands it over. */
const parseDiscovery = (out: string) => discoveryFacts(parseSections(discoverySections(3), `${out}\n@@end\n`));

// Real `ip -j -4 addr show` output of a lab load balancer holding a VIP (trimmed lifetimes).
export const LB1_ADDR = JSON.stringify([
  {
    ifindex: 1,
    ifname: 'lo',
    flags: ['LOOPBACK', 'UP', 'LOWER_UP'],
    operstate: 'UNKNOWN',
    addr_info: [{ family: 'inet', local: '127.0.0.1', prefixlen: 8, scope: 'host', label: 'lo' }],
  },
  {
    ifindex: 2,
    ifname: 'eth0',
    link_index: 412,
    flags: ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP'],
    operstate: 'UP',
    addr_info: [
      {
        family: 'inet',
        local: '10.213.7.11',
        prefixlen: 24,
        broadcast: '10.213.7.255',
        scope: 'global',
        label: 'eth0',
      },
      { family: 'inet', local: '10.213.7.121', prefixlen: 24, scope: 'global', secondary: true, label: 'eth0' },
    ],
  },
]);

const ONELINE = `1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever
2: eth0    inet 10.213.7.11/24 brd 10.213.7.255 scope global eth0\\       valid_lft forever preferred_lft forever
2: eth0    inet 10.213.7.121/24 scope global secondary eth0\\       valid_lft forever preferred_lft forever
3: ens4@if9    inet 172.16.0.5/16 brd 172.16.255.255 scope global ens4\\       valid_lft forever preferred_lft forever`;

describe('discovery script', () => {
  test('reads addresses (JSON, falling back to one-line), neighbours, keepalived VRIDs, and listens for a bounded time', () => {
    const s = joinSections(discoverySections(3)).text;
    expect(s).toContain("if ip -j -4 addr show 2>/dev/null; then :; else echo '#oneline'; ip -o -4 addr show; fi");
    expect(s).toContain('ip -j -4 neigh show');
    expect(s).toContain('virtual_router_id');
    expect(s).toMatch(/timeout 8 python3 -c '.*AF_PACKET/s);
    expect(s).toContain("timeout 3 tcpdump -l -nn -p -i any 'ip proto 112'");
    expect(s.trim().endsWith('echo @@end')).toBe(true);
  });
});

describe('parsers', () => {
  test('ip -j addr: interfaces, link state, primary and secondary addresses', () => {
    const ifs = parseIpAddrJson(LB1_ADDR);
    expect(ifs.map((i) => [i.name, i.up, i.loopback])).toEqual([
      ['lo', true, true],
      ['eth0', true, false],
    ]);
    expect(ifs[1].addrs).toEqual([
      { ip: '10.213.7.11', prefix: 24, secondary: false, scope: 'global' },
      { ip: '10.213.7.121', prefix: 24, secondary: true, scope: 'global' },
    ]);
  });

  test('ip -o addr (old iproute2): same facts, @peer suffix dropped', () => {
    const ifs = parseIpAddrOneline(ONELINE);
    expect(ifs.map((i) => i.name)).toEqual(['lo', 'eth0', 'ens4']);
    expect(ifs[1].addrs.map((a) => [a.ip, a.secondary])).toEqual([
      ['10.213.7.11', false],
      ['10.213.7.121', true],
    ]);
    expect(ifs[0].loopback).toBe(true);
    expect(ifs[2].addrs[0]).toEqual({ ip: '172.16.0.5', prefix: 16, secondary: false, scope: 'global' });
  });

  test('neighbours: failed and incomplete entries do not count as in use', () => {
    const n = parseNeighJson(
      JSON.stringify([
        { dst: '10.213.7.1', dev: 'eth0', lladdr: 'aa:bb:cc:dd:ee:ff', state: ['REACHABLE'] },
        { dst: '10.213.7.249', dev: 'eth0', state: ['FAILED'] },
        { dst: '10.213.7.248', dev: 'eth0', state: ['INCOMPLETE'] },
        { dst: '10.213.7.12', dev: 'eth0', lladdr: 'aa:bb:cc:dd:ee:00', state: ['STALE'] },
      ]),
    );
    expect(n.map((x) => x.ip)).toEqual(['10.213.7.1', '10.213.7.12']);
    expect(parseNeighJson('')).toEqual([]);
  });

  test('keepalived.conf VRIDs, ignoring out-of-range values', () => {
    expect(
      parseKeepalivedVrids([
        '    virtual_router_id 31',
        '\tvirtual_router_id 32 # kl2',
        'virtual_router_id 0',
        'virtual_router_id 300',
      ]),
    ).toEqual([
      { vrid: 31, source: 'keepalived.conf' },
      { vrid: 32, source: 'keepalived.conf' },
    ]);
  });

  test('adverts from the python3 listener and from tcpdump', () => {
    expect(
      parseAdverts(['vrrp eth0 10.213.7.11 51 150 10.213.7.121', 'vrrp eth0 10.213.7.12 52 150 -', 'garbage']),
    ).toEqual([
      { vrid: 51, source: 'advert', iface: 'eth0', from: '10.213.7.11', priority: 150, vips: ['10.213.7.121'] },
      { vrid: 52, source: 'advert', iface: 'eth0', from: '10.213.7.12', priority: 150 },
    ]);
    expect(
      parseAdverts([
        '12:00:01.000000 eth0  B   IP 192.168.10.20 > 224.0.0.18: VRRPv2, Advertisement, vrid 31, prio 150, authtype simple, intvl 1s, length 20',
        '12:00:01.000000 IP 192.168.10.30 > 224.0.0.18: VRRPv3, Advertisement, vrid 32, prio 100, intvl 100cs, length 12',
      ]),
    ).toEqual([
      { vrid: 31, source: 'advert', iface: 'eth0', from: '192.168.10.20', priority: 150 },
      { vrid: 32, source: 'advert', from: '192.168.10.30', priority: 100 },
    ]);
  });
});

describe('parseDiscovery', () => {
  const out = (listen: string) =>
    [
      '@@addrs4',
      LB1_ADDR,
      '@@neigh',
      JSON.stringify([{ dst: '10.213.7.1', dev: 'eth0', state: ['REACHABLE'] }]),
      '@@conf-vrids',
      '    virtual_router_id 51',
      listen,
    ].join('\n');

  test('a host with python3: adverts and the config both count', () => {
    const f = parseDiscovery(out('@@adverts\nmethod python3 3\nvrrp eth0 10.213.7.12 60 100 10.213.7.130\nrc 0'));
    expect(f.listen).toEqual({ method: 'python3', ok: true, seconds: 3 });
    expect(f.vrids.map((v) => [v.vrid, v.source])).toEqual([
      [51, 'keepalived.conf'],
      [60, 'advert'],
    ]);
    expect(f.neighbours).toEqual([{ ip: '10.213.7.1', dev: 'eth0' }]);
    expect(f.interfaces).toHaveLength(2);
  });

  test('listening that failed (no root) or was impossible is reported, not hidden', () => {
    expect(parseDiscovery(out('@@adverts\nmethod python3 3\nrc 1')).listen).toEqual({
      method: 'python3',
      ok: false,
      seconds: 3,
    });
    expect(parseDiscovery(out('@@adverts\nmethod none 0')).listen).toEqual({ method: 'none', ok: false, seconds: 0 });
  });

  test('falls back to the one-line format; no address section at all is an error', () => {
    expect(
      parseDiscovery(`@@addrs4\n#oneline\n${ONELINE}\n@@neigh\n@@conf-vrids\n@@adverts\nmethod none 0`).interfaces.map(
        (i) => i.name,
      ),
    ).toEqual(['lo', 'eth0', 'ens4']);
    expect(() => parseDiscovery('@@addrs4\n@@neigh\n[]\n@@conf-vrids\n@@adverts')).toThrow(/no addresses/);
  });
});
