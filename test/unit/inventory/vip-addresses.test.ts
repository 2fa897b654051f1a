/**
 * VIPs with several addresses, addresses on another interface, and sync groups (issue 18 §3):
 * what keepalived.conf and nginx get, what lint refuses, and that the real keepalived -t and
 * nginx -t accept the result.
 */
import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { fixturePath, loadText } from '../../helpers/inventory.js';
import { renderHost, type HostRender } from '../../../src/render/render.js';
import { keepalivedCheck, nginxCheck } from '../../helpers/validators.js';

const BASE = readFileSync(fixturePath('active-passive.yaml'), 'utf8');
const C = ['clusters', 0];

function withChanges(changes: [(string | number)[], unknown][]): string {
  const doc = parseDocument(BASE);
  for (const [path, value] of changes) doc.setIn([...C, ...path], doc.createNode(value));
  return doc.toString();
}

const errors = (text: string) => loadText(text).problems.filter((p) => p.severity === 'error');

function hosts(text: string): HostRender[] {
  const r = loadText(text);
  if (!r.inventory) throw new Error(JSON.stringify(r.problems, null, 2));
  const c = r.inventory.clusters[0];
  return c.lbs.map((lb) => renderHost(c, lb, { keepalived: '2.2.7', nginx: '1.22.1' }));
}
const fileOf = (h: HostRender, end: string) => h.files.find((f) => f.path.endsWith(end))!.content;

const DUAL_STACK = withChanges([
  [['vips', 0, 'vrrp_version'], 3],
  [['vrrp'], {}],
  [
    ['vips', 0, 'addresses'],
    [{ address: '10.0.0.101/24' }, { address: '192.0.2.10/32', dev: 'eth1', label: 'eth1:9' }],
  ],
  [['vips', 0, 'excluded_addresses'], [{ address: '2001:db8::60/64' }]],
]);

describe('several addresses per VIP', () => {
  it('one virtual_ipaddress block moves together; IPv6 rides in virtual_ipaddress_excluded; dev per address', () => {
    const conf = fileOf(hosts(DUAL_STACK)[0], 'keepalived.conf');
    expect(conf).toContain(
      [
        '    virtual_ipaddress {',
        '        10.0.0.100/24 dev eth0 label eth0:1',
        '        10.0.0.101/24 dev eth0',
        '        192.0.2.10/32 dev eth1 label eth1:9',
        '    }',
        '    virtual_ipaddress_excluded {',
        '        2001:db8::60/64 dev eth0',
        '    }',
      ].join('\n'),
    );
  });

  it('nginx listens on every address of the VIP, and IPv6 non-local bind is set', () => {
    const [h] = hosts(DUAL_STACK);
    const site = h.files.find((f) => f.path.startsWith('/etc/nginx/'))!.content;
    for (const l of ['10.0.0.100:80', '10.0.0.101:80', '192.0.2.10:80', '[2001:db8::60]:80'])
      expect(site).toContain(`listen ${l}`);
    expect(h.sysctl['net.ipv6.ip_nonlocal_bind']).toBe('1');
  });

  it.each([0, 1])('keepalived -t and nginx -t accept it (host %i)', (i) => {
    const h = hosts(DUAL_STACK)[i];
    for (const res of [keepalivedCheck(h), nginxCheck(h)]) if (!res.ok) throw new Error(res.output);
  });

  it('the VIP address may go on another interface than the adverts', () => {
    const conf = fileOf(hosts(withChanges([[['vips', 0, 'dev'], 'eth1']]))[0], 'keepalived.conf');
    expect(conf).toMatch(/^ {4}interface eth0$/m);
    expect(conf).toContain('10.0.0.100/24 dev eth1');
  });

  it("a VIP's other addresses go where the VIP goes unless they name their own dev (as lint reads them)", () => {
    const conf = fileOf(
      hosts(
        withChanges([
          [['vips', 0, 'dev'], 'eth1'],
          [
            ['vips', 0, 'addresses'],
            [
              { address: '10.0.0.101/24', label: 'eth1:2' },
              { address: '192.0.2.10/32', dev: 'eth2' },
            ],
          ],
        ]),
      )[0],
      'keepalived.conf',
    );
    expect(conf).toContain('10.0.0.101/24 dev eth1 label eth1:2');
    expect(conf).toContain('192.0.2.10/32 dev eth2');
  });

  it('lint: a second family inside virtual_ipaddress, a reused address, a bad one, a label on IPv6', () => {
    const p = errors(
      withChanges([
        [
          ['vips', 0, 'addresses'],
          [{ address: '2001:db8::61/64' }, { address: '10.0.0.100/24' }, { address: '10.0.0.300/24' }],
        ],
        [['vips', 0, 'excluded_addresses'], [{ address: '2001:db8::62/64', label: 'eth0:2' }]],
      ]),
    );
    expect(p.map((x) => [x.rule, x.path])).toEqual([
      ['address-family', 'clusters[0].vips[0].addresses[0].address'],
      ['address', 'clusters[0].vips[0].addresses[1].address'],
      ['address', 'clusters[0].vips[0].addresses[2].address'],
      ['label', 'clusters[0].vips[0].excluded_addresses[0].label'],
    ]);
    expect(p[0].fix).toMatch(/excluded_addresses/);
    for (const x of p) expect(x.line).toBeGreaterThan(0);
  });

  it('a dev that is not an interface name is a located schema error', () => {
    const r = loadText(withChanges([[['vips', 0, 'addresses'], [{ address: '10.0.0.101/24', dev: 'eth1 label x' }]]]));
    expect(r.inventory).toBeUndefined();
    expect(r.problems[0].path).toBe('clusters[0].vips[0].addresses[0].dev');
  });
});

describe('sync groups', () => {
  const two = (master2: string, extra: [(string | number)[], unknown][] = []) =>
    withChanges([
      [['vips', 1], { name: 'vip2', address: '10.0.0.101/24', vrid: 52, master: master2 }],
      [['sync_groups'], [{ name: 'front', vips: ['vip1', 'vip2'] }]],
      ...extra,
    ]);

  it('renders vrrp_sync_group before the instances, and keepalived -t accepts it', () => {
    const h = hosts(two('lb1'))[0];
    expect(fileOf(h, 'keepalived.conf')).toContain(
      'vrrp_sync_group front {\n    group {\n        vip1\n        vip2\n    }\n}\n\nvrrp_instance vip1 {',
    );
    const res = keepalivedCheck(h);
    if (!res.ok) throw new Error(res.output);
  });

  it('lint refuses different masters in a group (constant re-elections)', () => {
    const p = errors(two('lb2'));
    expect(p.map((x) => [x.rule, x.path])).toEqual([['sync-group', 'clusters[0].sync_groups[0].vips']]);
    expect(p[0].message).toMatch(/vip1 on lb1; vip2 on lb2/);
  });

  it('lint refuses weighted trackers inside a group (keepalived ignores them), and unknown VIPs', () => {
    const p = errors(
      two('lb1', [
        [['track_interface'], [{ interface: 'eth1', weight: -60 }]],
        [['health_check'], { weight: -60 }],
        [['sync_groups', 1], { name: 'other', vips: ['vip2', 'nope'] }],
      ]),
    );
    expect(p.map((x) => x.rule).sort()).toEqual(
      ['reference', 'sync-group', 'sync-group', 'sync-group', 'sync-group', 'sync-group', 'sync-group'].sort(),
    );
    expect(p.some((x) => /already in sync group front/.test(x.message))).toBe(true);
    expect(p.some((x) => /health check has weight -60/.test(x.message))).toBe(true);
  });
});
