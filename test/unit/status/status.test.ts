/** hactl status, pure parts: keepalived's dump parsed, observations → report, report → text and JSON. */
import type { HostFacts } from '../../../src/remote/facts.js';
import {
  parseKeepalivedData,
  parseKeepalivedScripts,
  type InstanceState,
} from '../../../src/remote/sections/keepalived.js';
import { factsOf } from '../../helpers/facts.js';
import { buildStatus, type HostObservation } from '../../../src/status/status.js';
import { formatStatus, redraw, statusJson } from '../../../src/ui/status-view.js';
import { fixturePath, loadValid } from '../../helpers/inventory.js';

const AT = Date.UTC(2026, 10, 25, 9, 30, 0);

/** Facts as the facts sections report them: which services run, which addresses, notify files. */
function facts(o: { keepalived?: boolean; nginx?: boolean; addrs?: string[]; vrrp?: string[] } = {}): HostFacts {
  return factsOf(o);
}

const ka = (entries: Record<string, InstanceState>) => new Map(Object.entries(entries));
const observe = (entries: Record<string, HostObservation>) => new Map(Object.entries(entries));

describe('parseKeepalivedData', () => {
  const dump = [
    '------< Global definitions >------',
    ' VRRP Instance = vip1',
    '   State = MASTER',
    '   Effective priority = 150',
    '   Last transition = 1795599609.548566 (Wed Nov 25 09:40:09.548566 2026)',
    ' VRRP Instance = vip2',
    '   State = FAULT',
    '   Effective priority = 0',
    '------< VRRP Scripts >------',
    '   State = idle',
    '------< Interfaces >------',
    '   State = UP, RUNNING',
  ];

  it('reads state, effective priority and last transition per instance, ignoring script and interface states', () => {
    expect(parseKeepalivedData(dump)).toEqual(
      new Map([
        ['vip1', { state: 'MASTER', priority: 150, since: 1795599609 }],
        ['vip2', { state: 'FAULT', priority: 0 }],
      ]),
    );
  });

  it('is empty when keepalived did not answer (not running, or no section at all)', () => {
    expect(parseKeepalivedData([]).size).toBe(0);
  });
});

describe('parseKeepalivedScripts', () => {
  // keepalived 2.2.7's DATA dump as keepalivedViewSection's grep leaves it (a hung nginx on lb1).
  const dump = [
    '------< VRRP Topology >------',
    ' VRRP Instance = vip1',
    '   State = FAULT',
    '   Effective priority = 150',
    '------< VRRP Scripts >------',
    ' VRRP Script = hactl_check_nginx',
    '   Status = BAD',
    ' VRRP Script = hactl_nginx_alive',
    '   Status = GOOD',
    '------< Interfaces >------',
    '   State = UP, RUNNING',
  ];

  it("reads each script's status; the instance and interface lines are not scripts", () => {
    expect(parseKeepalivedScripts(dump)).toEqual(
      new Map([
        ['hactl_check_nginx', 'BAD'],
        ['hactl_nginx_alive', 'GOOD'],
      ]),
    );
    expect(parseKeepalivedData(dump).get('vip1')).toEqual({ state: 'FAULT', priority: 150 });
    expect(parseKeepalivedScripts([]).size).toBe(0);
  });
});

describe('buildStatus', () => {
  const inv = loadValid(fixturePath('active-passive.yaml'));

  it('healthy: the master holds the VIP; states come from keepalived before the notify file', () => {
    const r = buildStatus(
      inv,
      observe({
        lb1: {
          facts: facts({ addrs: ['10.0.0.100/24'], vrrp: ['vip1 MASTER 150 1'] }),
          keepalived: ka({ vip1: { state: 'MASTER', priority: 150 } }),
        },
        // The notify file says FAULT (an older transition won the race); keepalived says BACKUP.
        lb2: {
          facts: facts({ vrrp: ['vip1 FAULT 100 1'] }),
          keepalived: ka({ vip1: { state: 'BACKUP', priority: 100 } }),
        },
      }),
      AT,
    );
    expect(r.ok).toBe(true);
    expect(r.vips).toEqual([
      {
        cluster: 'web',
        name: 'vip1',
        address: '10.0.0.100/24',
        master: 'lb1',
        holders: ['lb1'],
        health: 'ok',
        unknown: [],
      },
    ]);
    expect(r.lbs.map((l) => [l.name, l.instances[0].state, l.instances[0].source])).toEqual([
      ['lb1', 'MASTER', 'keepalived'],
      ['lb2', 'BACKUP', 'keepalived'],
    ]);
  });

  it('falls back to the notify file, then to VIP presence; a stopped keepalived is "down"', () => {
    const r = buildStatus(
      inv,
      observe({
        lb1: { facts: facts({ keepalived: false }) },
        lb2: { facts: facts({ addrs: ['10.0.0.100/24'] }), keepalived: new Map() },
      }),
      AT,
    );
    expect(r.lbs[0].instances[0]).toMatchObject({ state: 'down', holdsVip: false });
    expect(r.lbs[1].instances[0]).toMatchObject({ state: 'MASTER', source: 'vip', holdsVip: true });
    expect(r.vips[0]).toMatchObject({ holders: ['lb2'], health: 'failed-over' });
    expect(r.ok).toBe(true);
    const viaNotify = buildStatus(
      inv,
      observe({ lb1: { facts: facts({ vrrp: ['vip1 BACKUP 100 1'] }) }, lb2: { facts: facts() } }),
      AT,
    );
    expect(viaNotify.lbs[0].instances[0]).toMatchObject({ state: 'BACKUP', source: 'notify', priority: 100 });
  });

  it('split brain and a VIP nobody holds are not ok (exit 1)', () => {
    const both = buildStatus(
      inv,
      observe({
        lb1: { facts: facts({ addrs: ['10.0.0.100/24'] }) },
        lb2: { facts: facts({ addrs: ['10.0.0.100/24'] }) },
      }),
      AT,
    );
    expect(both.vips[0]).toMatchObject({ holders: ['lb1', 'lb2'], health: 'split-brain' });
    expect(both.ok).toBe(false);
    const none = buildStatus(inv, observe({ lb1: { facts: facts() }, lb2: { facts: facts() } }), AT);
    expect(none.vips[0].health).toBe('down');
    expect(none.ok).toBe(false);
  });

  it('an unreachable load balancer is shown with its error and counted as unknown, not as a holder', () => {
    const r = buildStatus(
      inv,
      observe({ lb1: { error: 'lb1: connect ECONNREFUSED' }, lb2: { facts: facts({ addrs: ['10.0.0.100/24'] }) } }),
      AT,
    );
    expect(r.lbs[0]).toMatchObject({
      name: 'lb1',
      reachable: false,
      error: 'lb1: connect ECONNREFUSED',
      instances: [{ vip: 'vip1', state: '?', holdsVip: false }],
    });
    expect(r.vips[0]).toMatchObject({ holders: ['lb2'], unknown: ['lb1'], health: 'failed-over' });
  });
});

describe('formatStatus', () => {
  beforeAll(() => {
    process.env.NO_COLOR = '1';
  });
  const inv = loadValid(fixturePath('dual-master.yaml'));
  const [a, b] = inv.clusters[0].lbs.map((l) => l.name);
  const [v1, v2] = inv.clusters[0].vips;

  it('renders VIPs (holder, master, state) and load balancers (services, one column per instance)', () => {
    const r = buildStatus(
      inv,
      observe({
        [a]: {
          facts: facts({ addrs: [v1.cidr] }),
          keepalived: ka({ [v1.name]: { state: 'MASTER' }, [v2.name]: { state: 'BACKUP' } }),
        },
        [b]: { facts: facts({ addrs: [v2.cidr], nginx: false }), keepalived: new Map() },
      }),
      AT,
    );
    expect(formatStatus(r)).toBe(
      [
        `cluster ${inv.clusters[0].name}`,
        'vip   address           holder  master  state',
        '----  ----------------  ------  ------  -----',
        `klg1  192.168.10.60/24  ${a}     ${a}     ok`,
        `klg2  192.168.10.80/24  ${b}     ${b}     ok`,
        '',
        'lb   keepalived  nginx  klg1     klg2',
        '---  ----------  -----  -------  -------',
        `${a}  up          up     MASTER   BACKUP`,
        `${b}  up          down   BACKUP*  MASTER*`,
        '* state guessed from the VIP on the interface (keepalived did not say)',
        '',
        'all 2 VIP(s) held by one load balancer (2026-11-25 09:30:00Z)',
      ].join('\n'),
    );
  });

  it("says which of keepalived's scripts fail on a node, as keepalived holds them; JSON lists them all", () => {
    const r = buildStatus(
      inv,
      observe({
        [a]: {
          facts: facts({ addrs: [v1.cidr, v2.cidr] }),
          keepalived: ka({ [v1.name]: { state: 'MASTER' }, [v2.name]: { state: 'MASTER' } }),
          scripts: new Map([['hactl_check_nginx', 'GOOD']]),
        },
        [b]: {
          facts: facts({}),
          keepalived: ka({ [v1.name]: { state: 'FAULT' }, [v2.name]: { state: 'FAULT' } }),
          scripts: new Map([
            ['hactl_check_nginx', 'BAD'],
            ['hactl_nginx_alive', 'GOOD'],
          ]),
        },
      }),
      AT,
    );
    const text = formatStatus(r);
    expect(text.split('\n').filter((l) => l.includes('keepalived says'))).toEqual([
      `${b}: keepalived says hactl_check_nginx is BAD`,
    ]);
    expect(statusJson(r).lbs.map((l) => l.scripts)).toEqual([
      [{ name: 'hactl_check_nginx', status: 'GOOD' }],
      [
        { name: 'hactl_check_nginx', status: 'BAD' },
        { name: 'hactl_nginx_alive', status: 'GOOD' },
      ],
    ]);
  });

  it('names split brain, a VIP down and an unreachable node; keepalived contradicted by the interfaces is flagged', () => {
    const r = buildStatus(
      inv,
      observe({
        [a]: {
          facts: facts({ addrs: [v1.cidr] }),
          keepalived: ka({ [v1.name]: { state: 'MASTER' }, [v2.name]: { state: 'MASTER' } }),
        },
        [b]: { error: 'timed out' },
      }),
      AT,
    );
    const text = formatStatus(r);
    expect(text).toContain(
      `klg2  192.168.10.80/24  -       ${b}     unknown: no reachable load balancer holds it (${b} not reachable)`,
    );
    expect(text).toMatch(new RegExp(`^${a}  up +up +MASTER +MASTER \\(no VIP\\)`, 'm'));
    expect(text).toMatch(new RegExp(`^${b}  \\? +\\? +\\? +\\? +unreachable: timed out$`, 'm'));
    expect(text).toMatch(/^1 VIP\(s\) down, split or unknown/m);
    const split = buildStatus(
      inv,
      observe({ [a]: { facts: facts({ addrs: [v1.cidr] }) }, [b]: { facts: facts({ addrs: [v1.cidr, v2.cidr] }) } }),
      AT,
    );
    expect(formatStatus(split)).toContain(`SPLIT BRAIN: held by ${a} and ${b}`);
  });

  it('--json: a stable document with ISO time, and no terminal codes', () => {
    const r = buildStatus(
      inv,
      observe({ [a]: { facts: facts({ addrs: [v1.cidr] }) }, [b]: { facts: facts({ addrs: [v2.cidr] }) } }),
      AT,
    );
    const doc = statusJson(r);
    expect(doc.at).toBe('2026-11-25T09:30:00.000Z');
    expect(doc.lbs[0].instances[0]).toEqual({
      vip: 'klg1',
      state: 'MASTER',
      source: 'vip',
      priority: null,
      holdsVip: true,
    });
    expect(JSON.parse(JSON.stringify(doc))).toEqual(doc);
  });

  it('redraw homes the cursor, clears each line end and what is left below', () => {
    expect(redraw('a\nb')).toBe('\u001b[Ha\u001b[K\nb\u001b[K\n\u001b[J');
  });
});
