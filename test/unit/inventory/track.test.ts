/**
 * Tracked links (issue 18 §2) and keepalived's global settings (§4): the inventory fields, their
 * lint, the VRRP bound for a link going down, and what keepalived.conf gets for each version.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { fixturePath, loadText } from '../../helpers/inventory.js';
import { renderHost } from '../../../src/render/render.js';
import { convergenceMs, promisedLinkDownSeconds, trackVerdict } from '../../../src/inventory/vrrp-math.js';
import { keepalivedCheck } from '../../helpers/validators.js';

const BASE = readFileSync(fixturePath('active-passive.yaml'), 'utf8');
const C = ['clusters', 0];

function withChanges(changes: [(string | number)[], unknown][]): string {
  const doc = parseDocument(BASE);
  for (const [path, value] of changes) doc.setIn([...C, ...path], doc.createNode(value));
  return doc.toString();
}

const errors = (text: string) => loadText(text).problems.filter((p) => p.severity === 'error');
const warnings = (text: string) => loadText(text).problems.filter((p) => p.severity === 'warning');

function conf(text: string, keepalived?: string, lb = 0): string {
  const r = loadText(text);
  if (!r.inventory) throw new Error(JSON.stringify(r.problems, null, 2));
  const c = r.inventory.clusters[0];
  return renderHost(c, c.lbs[lb], keepalived ? { keepalived } : {}).files.find((f) =>
    f.path.endsWith('keepalived.conf'),
  )!.content;
}

describe('track_interface', () => {
  const tracked = withChanges([
    [['track_interface'], [{ interface: 'eth1' }]],
    [['vips', 0, 'track_interface'], [{ interface: 'bond0', weight: -60, down_delay: 0.5, up_delay: 5 }]],
  ]);

  it('renders the cluster and the VIP links into the instance, FAULT without a weight', () => {
    expect(errors(tracked)).toEqual([]);
    expect(conf(tracked)).toMatch(/ {4}track_interface \{\n {8}eth1\n {8}bond0 weight -60\n {4}\}\n/);
  });

  it('a VIP entry for the same link replaces the cluster one', () => {
    const t = withChanges([
      [['track_interface'], [{ interface: 'eth1' }]],
      [['vips', 0, 'track_interface'], [{ interface: 'eth1', weight: -60 }]],
    ]);
    expect(conf(t)).toMatch(/track_interface \{\n {8}eth1 weight -60\n {4}\}/);
  });

  it('interface_up_down_delays on keepalived 2.2.3 and later; a comment on 2.1.5 and unknown versions', () => {
    expect(conf(tracked, '2.2.7')).toMatch(/^interface_up_down_delays \{\n {4}bond0 0\.5 5\n\}$/m);
    expect(conf(tracked, '2.3.3')).toContain('interface_up_down_delays {');
    expect(conf(tracked, '2.1.5')).not.toMatch(/^interface_up_down_delays/m);
    expect(conf(tracked, '2.1.5')).toContain('needs keepalived 2.2.3 or later (this host has 2.1.5)');
    expect(conf(tracked)).not.toMatch(/^interface_up_down_delays/m);
  });

  it('lint: a negative weight that leaves the master on top is refused, with the arithmetic and a fix', () => {
    const p = errors(withChanges([[['track_interface'], [{ interface: 'eth1', weight: -20 }]]]));
    expect(p).toHaveLength(1);
    expect(p[0]).toMatchObject({ rule: 'track-arithmetic', path: 'clusters[0].track_interface[0].weight' });
    expect(p[0].message).toBe(
      "when eth1 goes down on lb1, vip1 does not move: eth1 down subtracts 20 from lb1's priority 150, leaving 130, which is not below lb2's 100",
    );
    expect(p[0].fix).toMatch(/below -50/);
    expect(p[0].line).toBeGreaterThan(0);
  });

  it('lint: a positive weight too small to lift the backup above the master is refused', () => {
    const p = errors(withChanges([[['vips', 0, 'track_interface'], [{ interface: 'eth1', weight: 30 }]]]));
    expect(p.map((x) => [x.rule, x.path])).toEqual([
      ['track-arithmetic', 'clusters[0].vips[0].track_interface[0].weight'],
    ]);
    expect(errors(withChanges([[['vips', 0, 'track_interface'], [{ interface: 'eth1', weight: 60 }]]]))).toEqual([]);
  });

  it('lint: the same link twice, different delays per VIP, and the VRRP interface', () => {
    expect(
      errors(withChanges([[['track_interface'], [{ interface: 'eth1' }, { interface: 'eth1' }]]]))[0],
    ).toMatchObject({
      rule: 'track-interface',
      path: 'clusters[0].track_interface[1].interface',
    });
    const twoVips = withChanges([
      [['vips', 1], { name: 'vip2', address: '10.0.0.101/24', vrid: 52, master: 'lb2' }],
      [['vips', 0, 'track_interface'], [{ interface: 'eth1', down_delay: 1 }]],
      [['vips', 1, 'track_interface'], [{ interface: 'eth1', down_delay: 2 }]],
    ]);
    expect(errors(twoVips).map((p) => p.rule)).toEqual(['track-delay']);
    expect(warnings(withChanges([[['track_interface'], [{ interface: 'eth0' }]]])).map((p) => p.rule)).toEqual([
      'track-interface',
    ]);
  });

  it('bad input is a located schema error and nothing is rendered', () => {
    for (const bad of [{ interface: 'eth1 weight 200' }, { interface: 'eth1', weight: 254 }, { interface: 'eth1}' }]) {
      const r = loadText(withChanges([[['track_interface'], [bad]]]));
      expect(r.inventory).toBeUndefined();
      expect(r.problems[0].path).toMatch(/^clusters\[0\]\.track_interface\[0\]/);
      expect(r.problems[0].line).toBeGreaterThan(0);
    }
  });

  it('the bound for a tracked link going down: FAULT is skew, a weight is the master-down interval', () => {
    expect(promisedLinkDownSeconds({ weight: 0 }, 1, 100)).toEqual({ seconds: 0.609, formula: 'skew 0.609s (FAULT)' });
    expect(promisedLinkDownSeconds({ weight: -60, downDelay: 0.5 }, 1, 100)).toEqual({
      seconds: 4.109,
      formula: 'down_delay 0.5s + 3×1s + skew 0.609s',
    });
    expect(
      trackVerdict(
        'eth1',
        -60,
        'lb1',
        new Map([
          ['lb1', 150],
          ['lb2', 100],
        ]),
      ).ok,
    ).toBe(true);
  });

  it.each(['lb1', 'lb2'])('keepalived -t accepts the tracked configuration on %s', (name) => {
    const r = loadText(tracked);
    const c = r.inventory!.clusters[0];
    const host = renderHost(
      c,
      c.lbs.find((l) => l.name === name)!,
      { keepalived: '2.2.7' },
    );
    // keepalived -t refuses a tracked link that does not exist: the validator creates the ones the file names.
    const res = keepalivedCheck(host);
    if (!res.ok) throw new Error(res.output);
  });
});

describe('keepalived global settings', () => {
  it('vrrp_no_swap by default; nothing else unless asked', () => {
    const text = conf(BASE);
    expect(text).toMatch(/^ {4}vrrp_no_swap$/m);
    expect(text).not.toMatch(/vrrp_startup_delay|max_auto_priority|vrrp_garp_master_delay|vrrp_garp_interval/);
  });

  it('renders each setting as its global_defs keyword', () => {
    const t = withChanges([
      [
        ['keepalived'],
        {
          vrrp_startup_delay: 5,
          max_auto_priority: 10,
          vrrp_no_swap: false,
          garp_master_delay: 2,
          garp_master_repeat: 3,
          garp_interval: 0.001,
        },
      ],
    ]);
    const text = conf(t, '2.2.7');
    for (const line of [
      'vrrp_startup_delay 5',
      'max_auto_priority 10',
      'vrrp_garp_master_delay 2',
      'vrrp_garp_master_repeat 3',
      'vrrp_garp_interval 0.001',
    ])
      expect(text).toMatch(new RegExp(`^ {4}${line}$`, 'm'));
    expect(text).not.toContain('vrrp_no_swap');
    // deploy waits for the startup delay too.
    const inv = loadText(t).inventory!;
    const base = loadText(BASE).inventory!;
    expect(
      convergenceMs(inv.clusters[0], inv.clusters[0].vips) - convergenceMs(base.clusters[0], base.clusters[0].vips),
    ).toBe(5000);
  });

  it('refuses values keepalived would not take, located', () => {
    for (const [k, v] of [
      ['max_auto_priority', 100],
      ['garp_master_repeat', 0],
      ['vrrp_startup_delay', -1],
      ['vrrp_no_swap', 'yes'],
      ['bogus', 1],
    ] as const) {
      const r = loadText(withChanges([[['keepalived'], { [k]: v }]]));
      expect(r.inventory).toBeUndefined();
      expect(r.problems[0].path).toMatch(/^clusters\[0\]\.keepalived/);
    }
  });
});

/**
 * The version gates against the real binaries: where the lab's image cache holds the Debian 11,
 * 12 and 13 roots (keepalived 2.1.5, 2.2.7, 2.3.3), every new keyword rendered for that version
 * passes its own `keepalived -t` with no unknown keyword (2.1.5 exits 0 on one, so the output is
 * read too). Skipped where there is no cache.
 */
describe('every new keyword, checked by the keepalived it is rendered for', () => {
  const cache = process.env.HACTL_LAB_CACHE_DIR ?? '/var/cache/hactl-lab';
  const roots: [string, string][] = (
    [
      ['debian-11', '2.1.5'],
      ['debian-12', '2.2.7'],
      ['debian-13', '2.3.3'],
    ] as const
  )
    .map(([os, v]): [string, string] => [join(cache, 'v1', os, 'preinstalled', 'root'), v])
    .filter(([root]) => existsSync(join(root, 'usr/sbin/keepalived')));
  const everything = withChanges([
    [['track_interface'], [{ interface: 'eth1' }, { interface: 'eth2', down_delay: 0.5, up_delay: 2 }]],
    [
      ['keepalived'],
      {
        vrrp_startup_delay: 1,
        max_auto_priority: 10,
        garp_master_delay: 2,
        garp_master_repeat: 3,
        garp_interval: 0.001,
      },
    ],
    [['health_check'], { mode: 'none' }],
    [
      ['vips', 1],
      {
        name: 'vip2',
        address: '10.0.0.101/24',
        vrid: 52,
        master: 'lb1',
        addresses: [{ address: '10.0.0.102/24' }, { address: '192.0.2.9/32', dev: 'eth2' }],
        excluded_addresses: [{ address: '2001:db8::9/64' }],
      },
    ],
    [['sync_groups'], [{ name: 'g1', vips: ['vip1', 'vip2'] }]],
  ]);

  (roots.length > 0 ? it.each(roots) : it.skip.each([['', '']]))('keepalived %s (%s)', (root, version) => {
    const dir = mkdtempSync(join(tmpdir(), 'hactl-kv-'));
    try {
      // The notify script lives on the host; its path is all keepalived -t checks here.
      // The drain file's directory exists on a deployed host, not in the image: keepalived 2.3
      // refuses a track_file it cannot create, so it points into the scratch dir here.
      const text = conf(everything, version)
        .replace(/^\s+notify ".*"$/gm, '')
        .replace(/file "\/var\/lib\/hactl\/drain"/, 'file "/mnt/drain"');
      writeFileSync(join(dir, 'k.conf'), text);
      const links = ['eth0', 'eth1', 'eth2'].map(
        (l) => `ip link add ${l} type veth peer name p${l} && ip link set ${l} up`,
      );
      const run = () =>
        execFileSync(
          'unshare',
          [
            '-m',
            '-n',
            'sh',
            '-c',
            `${links.join(' && ')} && mount --bind ${dir} ${root}/mnt && chroot ${root} keepalived -t -f /mnt/k.conf 2>&1`,
          ],
          { encoding: 'utf8' },
        );
      let out: string;
      try {
        out = run();
      } catch (e) {
        throw new Error(`keepalived -t refused it:\n${(e as { stdout?: string }).stdout ?? String(e)}`);
      }
      expect(out).not.toMatch(/unknown keyword/i);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
