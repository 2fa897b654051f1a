/** The VRID census's verdicts, and the hook-command facts, from what the sections print. */
import { parseAdverts, type Heard } from '../../../src/remote/sections/discovery.js';
import { parseHookCommands } from '../../../src/remote/sections/hooks.js';
import { census, censusSeconds, describeCollision } from '../../../src/verify/census.js';
import { factsOf } from '../../helpers/facts.js';
import { fixturePath, loadValid } from '../../helpers/inventory.js';

const cluster = loadValid(fixturePath('active-passive.yaml')).clusters[0];
const heard = (lines: string[], ok = true): Heard => ({
  listen: { method: 'python3', ok, seconds: 3 },
  vrids: parseAdverts(lines),
});
const facts = (lb: string) => factsOf({ own: lb === 'lb1' ? '10.0.0.11/24' : '10.0.0.12/24' });

describe('census', () => {
  test('an advert with the cluster VRID from outside the cluster is a collision, named with address and priority', () => {
    const r = census(
      cluster,
      new Map([
        ['lb1', heard(['vrrp eth0 10.0.0.9 51 120 10.0.0.250'])],
        ['lb2', heard(['vrrp eth0 10.0.0.9 51 120 10.0.0.250'])],
      ]),
      facts,
    );
    expect(r.collisions).toEqual([
      { vrid: 51, vip: 'vip1', heardOn: 'lb1', iface: 'eth0', from: '10.0.0.9', priority: 120, vips: ['10.0.0.250'] },
    ]);
    expect(describeCollision('web', r.collisions[0])).toBe(
      'VRID 51 (vip1) is already advertised by 10.0.0.9, priority 120, carrying 10.0.0.250, heard on lb1 eth0: a router outside cluster web',
    );
  });

  test("the cluster's own nodes (an old hand-made keepalived being taken over) and other VRIDs are not collisions", () => {
    const r = census(
      cluster,
      new Map([['lb1', heard(['vrrp eth0 10.0.0.12 51 100 10.0.0.100', 'vrrp eth0 10.0.0.9 7 100 10.0.0.7'])]]),
      facts,
    );
    expect(r.collisions).toEqual([]);
    expect(r.othersInUse).toEqual([{ vrid: 7, from: '10.0.0.9', heardOn: 'lb1' }]);
    expect(r.problems).toEqual([]);
  });

  test('adverts heard on another interface than the VRRP one do not count; a failed listen is a problem', () => {
    const r = census(cluster, new Map([['lb1', heard(['vrrp eth1 10.9.9.9 51 100 -'], false)]]), facts);
    expect(r.collisions).toEqual([]);
    expect(r.problems).toEqual(['lb1: listening with python3 failed']);
    const none = census(
      cluster,
      new Map([['lb2', { listen: { method: 'none', ok: false, seconds: 0 }, vrids: [] } as Heard]]),
      facts,
    );
    expect(none.problems[0]).toMatch(/neither python3 nor tcpdump/);
  });

  test('listens three of the slowest advert intervals, at least 3 s', () => {
    expect(censusSeconds(cluster)).toBe(3);
    expect(censusSeconds({ ...cluster, vips: [{ ...cluster.vips[0], advertInt: 2.5 }] })).toBe(8);
  });
});

test('hook commands: present and executable, missing, or not a file', () => {
  expect(
    parseHookCommands([
      'hook 1 1 root 755 /usr/local/bin/page',
      'hook 0 0 - - /usr/local/bin/gone',
      'hook 1 0 admin 644 /etc/x',
    ]),
  ).toEqual([
    { path: '/usr/local/bin/page', exists: true, executable: true, owner: 'root', mode: '0755' },
    { path: '/usr/local/bin/gone', exists: false, executable: false },
    { path: '/etc/x', exists: true, executable: false, owner: 'admin', mode: '0644' },
  ]);
});
