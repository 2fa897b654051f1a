import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { fixturePath, loadText } from '../../helpers/inventory.js';
import type { Problem } from '../../../src/inventory/problems.js';

const BASE = readFileSync(fixturePath('active-passive.yaml'), 'utf8');

/** Applies a change to the base inventory (a YAML path and a value, or raw text). */
function mutate(path: (string | number)[], value: unknown): string {
  const doc = parseDocument(BASE);
  if (value === undefined) doc.deleteIn(path);
  else doc.setIn(path, value);
  return doc.toString();
}

function problems(text: string): Problem[] {
  return loadText(text).problems.filter((p) => p.severity === 'error');
}

function expectOne(text: string, rule: string, message: RegExp, path?: string): Problem {
  const ps = problems(text);
  const hit = ps.find((p) => p.rule === rule && message.test(p.message));
  if (!hit)
    throw new Error(
      `expected [${rule}] ${message} in:\n${ps.map((p) => `[${p.rule}] ${p.path}: ${p.message}`).join('\n') || '(no problems)'}`,
    );
  if (path) expect(hit.path).toBe(path);
  expect(hit.line).toBeGreaterThan(0);
  return hit;
}

const C = ['clusters', 0];

describe('the base fixture', () => {
  it('is valid', () => {
    expect(problems(BASE)).toEqual([]);
  });
});

describe('schema problems name the place and the fix', () => {
  it('rejects an unknown key and suggests the near one', () => {
    const text = mutate([...C, 'vips', 0, 'vrdi'], 5);
    const p = expectOne(text, 'schema', /unknown key "vrdi"/, 'clusters[0].vips[0].vrdi');
    expect(p.fix).toMatch(/did you mean "vrid"/);
    const lines = text.split('\n');
    const line = lines.findIndex((l) => l.includes('vrdi')) + 1;
    expect(p.line).toBe(line);
    expect(p.col).toBe(lines[line - 1].indexOf('vrdi') + 1);
  });
  it('reports a missing required key', () => {
    expectOne(mutate([...C, 'vips', 0, 'master'], undefined), 'schema', /missing required key "master"/);
  });
  it('reports VRID out of range with the allowed range', () => {
    expectOne(
      mutate([...C, 'vips', 0, 'vrid'], 300),
      'schema',
      /300 is out of range: must be <= 255/,
      'clusters[0].vips[0].vrid',
    );
  });
  it('reports priority out of range', () => {
    expectOne(mutate([...C, 'vips', 0, 'priorities'], { lb1: 255, lb2: 100 }), 'schema', /255 is out of range/);
  });
  it('reports a port out of range', () => {
    expectOne(mutate([...C, 'backends', 0, 'port'], 70000), 'schema', /out of range/);
  });
  it('lists the choices of an enum', () => {
    expectOne(mutate(['ssh'], { host_key_policy: 'yolo' }), 'schema', /"yolo" is not one of: "strict", "accept-new"/);
  });
  it('reports every problem at once', () => {
    const doc = parseDocument(BASE);
    doc.setIn([...C, 'vips', 0, 'vrid'], 0);
    doc.setIn([...C, 'backends', 0, 'port'], 0);
    doc.setIn([...C, 'name'], 'bad name');
    expect(
      problems(doc.toString())
        .map((p) => p.path)
        .sort(),
    ).toEqual(['clusters[0].backends[0].port', 'clusters[0].name', 'clusters[0].vips[0].vrid']);
  });
  it('wants the VRRP password quoted as a string, and never shows it', () => {
    const p = expectOne(
      BASE.replace('pass: s3cret', 'pass: 1111'),
      'schema',
      /expected text, got a value that is not text \(not shown: it is the password\)/,
    );
    expect(p.fix).toMatch(/write the password in quotes/);
    expect(JSON.stringify(p)).not.toContain('1111');
  });
});

describe('hostile strings never reach a config file or a shell', () => {
  const hostile: [string, RegExp][] = [
    ['web; rm -rf /', /contains ";"(,| and) a space/],
    ['a\nb', /contains a line break/],
    ['x{y}', /contains "\{" and "\}"/],
    ["it's", /contains "'"/],
    ['a"b', /contains "\\""/],
    ['$(reboot)', /contains "\$", "\(" and "\)"/],
    ['`id`', /contains "`"/],
    ['a b', /contains a space/],
  ];
  it.each(hostile)('cluster name %j', (bad, why) => {
    expectOne(mutate([...C, 'name'], bad), 'schema', why, 'clusters[0].name');
  });
  it.each(hostile)('server name %j', (bad, why) => {
    expectOne(mutate([...C, 'sites', 0, 'server_names', 0], bad), 'schema', why);
  });
  it.each(hostile)('label %j', (bad, why) => {
    expectOne(mutate([...C, 'vips', 0, 'label'], bad), 'schema', why);
  });
  it.each(['/ok; reboot', '/a b', '/`x`', '/a\nb'])('health path %j', (bad) => {
    expectOne(mutate([...C, 'sites', 0, 'health_path'], bad), 'schema', /contains .* that a URL cannot hold/);
  });
  it.each(['gzip on; evil', 'location / { }', 'x # comment', 'a\nb'])('extra directive %j', (bad) => {
    expectOne(mutate([...C, 'sites', 0, 'extra'], [bad]), 'extra-directive', /not a single nginx directive/);
  });
  it('proxy header values', () => {
    expectOne(mutate([...C, 'sites', 0, 'proxy_headers'], { Host: '$host; evil' }), 'schema', /contains a space/);
  });
  it('proxy header names (a map key: checked too, not silently accepted)', () => {
    const p = expectOne(
      mutate([...C, 'sites', 0, 'proxy_headers'], { 'X-A; evil': '$host' }),
      'schema',
      /the name "X-A; evil" contains ";" and a space/,
      'clusters[0].sites[0].proxy_headers.X-A; evil',
    );
    expect(p.fix).toMatch(/header name alone/);
  });
});

describe('cross-host rules', () => {
  it('VRIDs are unique per segment, across clusters', () => {
    const doc = parseDocument(BASE);
    const second = (
      doc.toJS() as { clusters: { name: string; load_balancers: object[]; vips: { address: string }[] }[] }
    ).clusters[0];
    second.name = 'web2';
    second.load_balancers = [
      { name: 'lb3', address: '10.0.0.13' },
      { name: 'lb4', address: '10.0.0.14' },
    ];
    second.vips[0].address = '10.0.0.101/24';
    doc.setIn(['clusters', 1], second);
    const p = expectOne(doc.toString(), 'vrid-unique', /virtual_router_id 51 is already used on this segment/);
    expect(p.path).toBe('clusters[1].vips[0].vrid');
  });
  it('the same VRID on another subnet is fine', () => {
    const doc = parseDocument(BASE);
    doc.setIn([...C, 'vips', 1], { name: 'vip2', address: '10.9.0.100/24', vrid: 51, master: 'lb2' });
    doc.setIn([...C, 'load_balancers', 0, 'vrrp_address'], '10.0.0.11');
    expect(problems(doc.toString()).filter((p) => p.rule === 'vrid-unique')).toEqual([]);
  });
  it('priorities must be distinct per VIP', () => {
    expectOne(
      mutate([...C, 'vips', 0, 'priorities'], { lb1: 150, lb2: 150 }),
      'priority-distinct',
      /same priority 150/,
    );
  });
  it('the master must have the highest priority', () => {
    expectOne(
      mutate([...C, 'vips', 0, 'priorities'], { lb1: 90, lb2: 100 }),
      'priority-master',
      /master lb1 \(priority 90\) is not the highest/,
    );
  });
  it('a VIP must lie in the subnet of the LB address', () => {
    expectOne(
      mutate([...C, 'vips', 0, 'address'], '10.0.5.100/24'),
      'vip-subnet',
      /the subnet of 10.0.5.100\/24 does not contain lb1's address 10.0.0.11/,
    );
  });
  it('a VIP must not be a network address', () => {
    expectOne(mutate([...C, 'vips', 0, 'address'], '10.0.0.0/24'), 'address', /network or broadcast/);
  });
  it('a VIP needs a prefix', () => {
    expectOne(mutate([...C, 'vips', 0, 'address'], '10.0.0.100'), 'address', /not an address with a prefix/);
  });
  it('auth_pass longer than 8 characters is rejected (keepalived truncates it)', () => {
    expectOne(
      mutate([...C, 'vrrp', 'auth', 'pass'], 'longpassword'),
      'auth-length',
      /12 characters; keepalived silently uses only the first 8/,
    );
  });
  it('the password from the environment is checked too', () => {
    const text = mutate([...C, 'vrrp', 'auth'], { type: 'PASS', pass_env: 'TEST_VRRP_PASS' });
    expect(problems(text)).toEqual([]);
    const r = loadText(text, 'inventory.yaml', { TEST_VRRP_PASS: 'waytoolongpass' });
    expect(r.problems.map((p) => p.rule)).toContain('auth-length');
  });
  it('a missing pass_env variable is an error where secrets are needed', () => {
    const text = mutate([...C, 'vrrp', 'auth'], { type: 'PASS', pass_env: 'NOT_SET_ANYWHERE' });
    expectOne(text, 'auth-env', /NOT_SET_ANYWHERE is not set/);
  });
  it('authentication with VRRPv3 is rejected', () => {
    expectOne(mutate([...C, 'vrrp', 'vrrp_version'], 3), 'auth-v3', /VRRPv3 has no authentication/);
  });
  it('sub-second advert_int requires VRRPv3', () => {
    expectOne(mutate([...C, 'vips', 0, 'advert_int'], 0.5), 'advert-int', /below 1 second/);
  });
  it('nopreempt requires BACKUP everywhere', () => {
    const doc = parseDocument(BASE);
    doc.setIn([...C, 'vips', 0, 'preempt'], false);
    doc.setIn([...C, 'vips', 0, 'initial_state'], 'MASTER');
    expectOne(doc.toString(), 'nopreempt-state', /every node starts as BACKUP/);
  });
  it('a site VIP must exist', () => {
    expectOne(mutate([...C, 'sites', 0, 'vips'], ['nope']), 'reference', /VIP "nope" does not exist/);
  });
  it('a referenced backend must exist', () => {
    expectOne(
      mutate([...C, 'sites', 0, 'backends'], ['web1', 'ghost']),
      'reference',
      /backend "ghost" does not exist/,
      'clusters[0].sites[0].backends[1]',
    );
  });
  it('the VIP master must be a load balancer of the cluster', () => {
    expectOne(mutate([...C, 'vips', 0, 'master'], 'lb9'), 'reference', /master "lb9" is not a load balancer/);
  });
  it('names are unique', () => {
    expectOne(
      mutate([...C, 'load_balancers', 1, 'name'], 'lb1'),
      'unique-name',
      /load balancer name "lb1" is already used/,
    );
  });
  it('a label must start with the interface name', () => {
    const p = expectOne(
      mutate([...C, 'vips', 0, 'label'], 'eth1:1'),
      'label',
      /must start with the interface it is on: lb1 uses eth0/,
    );
    expect(p.fix).toBe('use eth0:1');
  });
  it('unicast needs IP addresses', () => {
    const doc = parseDocument(BASE);
    doc.setIn([...C, 'vips', 0, 'unicast'], true);
    doc.setIn([...C, 'load_balancers', 0, 'address'], 'lb1.example.com');
    expectOne(doc.toString(), 'unicast-address', /needs lb1's IP/);
  });
  it('a server name is served once per VIP and port', () => {
    const doc = parseDocument(BASE);
    doc.setIn([...C, 'sites', 1], { name: 'www2', server_names: ['example.com'], vips: ['vip1'], backends: ['web1'] });
    expectOne(doc.toString(), 'site-conflict', /example.com on vip1:80 is already served/);
  });
});

describe('can this health check fail over?', () => {
  it("rejects the seed's weight 2 with priorities 150/100 and explains the arithmetic", () => {
    const doc = parseDocument(BASE);
    doc.setIn([...C, 'vips', 0, 'priorities'], { lb1: 150, lb2: 100 });
    doc.setIn([...C, 'health_check'], { mode: 'script', interval: 2, weight: 2 });
    const p = expectOne(doc.toString(), 'failover-arithmetic', /does not move/, 'clusters[0].health_check.weight');
    expect(p.message).toMatch(/lb2: 100 → 102/);
    expect(p.message).toMatch(/150 ≥ 102/);
    expect(p.fix).toMatch(/weight: 0/);
  });
  it('accepts a positive weight large enough', () => {
    const doc = parseDocument(BASE);
    doc.setIn([...C, 'health_check'], { weight: 60 });
    expect(problems(doc.toString())).toEqual([]);
  });
  it('rejects a negative weight too small, accepts a large one', () => {
    const small = mutate([...C, 'health_check'], { weight: -20 });
    expectOne(small, 'failover-arithmetic', /subtracts 20 from lb1's priority 150, leaving 130/);
    expect(problems(mutate([...C, 'health_check'], { weight: -60 }))).toEqual([]);
  });
  it('counts both checks in mode both', () => {
    expect(problems(mutate([...C, 'health_check'], { mode: 'both', weight: -30 }))).toEqual([]);
    expectOne(mutate([...C, 'health_check'], { mode: 'process', weight: -30 }), 'failover-arithmetic', /leaving 120/);
  });
  it('weight 0 (the default) always fails over', () => {
    expect(problems(mutate([...C, 'health_check'], { weight: 0 }))).toEqual([]);
  });
  it('warns when there is no health check', () => {
    const r = loadText(mutate([...C, 'health_check'], { mode: 'none' }));
    expect(r.inventory).toBeDefined();
    expect(r.problems.find((p) => p.severity === 'warning' && p.rule === 'failover-arithmetic')?.message).toMatch(
      /VIP stays on the dead node/,
    );
  });
});

describe('IPv6 VIPs', () => {
  const v6 = (vip: string, vrrp = '') => `clusters:
  - name: web
    interface: eth0
    load_balancers:
      - { name: lb1, address: 10.0.0.11 }
      - { name: lb2, address: 10.0.0.12 }
    vips:
      - { name: vip1, address: "fd00:213::121/64", vrid: 51, master: lb1${vip} }
${vrrp}    backends: [{ name: web1, address: 10.0.1.21 }]
    sites: [{ name: www, server_names: [www.example.com], vips: [vip1], backends: [web1] }]
`;
  it('need VRRPv3 (named at the VIP), then no authentication (named at the auth)', () => {
    const p = expectOne(v6(''), 'ipv6-vrrp', /IPv6 VIP: VRRPv2 carries IPv4 only/);
    expect(p).toMatchObject({ path: 'clusters[0].vips[0]', line: 8 });
    const a = expectOne(
      v6(', vrrp_version: 3', '    vrrp: { auth: { type: PASS, pass: abc } }\n'),
      'auth-v3',
      /no authentication/,
    );
    expect(a.path).toBe('clusters[0].vrrp.auth');
    expect(loadText(v6(', vrrp_version: 3')).problems).toEqual([]);
  });
});

describe('notify hooks', () => {
  test('a notify: with neither a command nor a webhook is a warning', () => {
    const p = loadText(mutate([...C, 'notify'], { timeout: 3 })).problems;
    expect(p.map((x) => [x.rule, x.severity, x.message])).toEqual([
      ['notify', 'warning', 'notify: has neither a command nor a webhook, so no hook is called'],
    ]);
  });

  test('a VIP may override the cluster hooks field by field; then nothing to warn about', () => {
    const text = mutate([...C, 'notify'], { command: '/usr/local/bin/page' });
    expect(problems(text)).toEqual([]);
    const bad = problems(mutate([...C, 'notify'], { command: 'page oncall' }));
    expect(bad.map((x) => [x.rule, x.message])).toEqual([
      [expect.any(String), expect.stringMatching(/is not an absolute path/)],
    ]);
    const url = problems(mutate([...C, 'notify'], { webhook: 'https://x.example.com/$(id)' }));
    expect(url[0].message).toMatch(/contains/);
  });
});
