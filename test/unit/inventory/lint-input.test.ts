/** Input rules beyond one field's pattern, and the refusals that used to be false. */
import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { fixturePath, loadText } from '../../helpers/inventory.js';
import type { Problem } from '../../../src/inventory/problems.js';

const BASE = readFileSync(fixturePath('active-passive.yaml'), 'utf8');
const C = ['clusters', 0];

function edit(...changes: [(string | number)[], unknown][]): string {
  const doc = parseDocument(BASE);
  for (const [path, value] of changes) doc.setIn(path, value);
  return doc.toString();
}
const errors = (text: string, env?: NodeJS.ProcessEnv): Problem[] =>
  loadText(text, 'inventory.yaml', env).problems.filter((p) => p.severity === 'error');
const one = (text: string, rule: string, message: RegExp, env?: NodeJS.ProcessEnv): Problem => {
  const ps = errors(text, env);
  const hit = ps.find((p) => p.rule === rule && message.test(p.message));
  if (!hit)
    throw new Error(`expected [${rule}] ${message}, got:\n${ps.map((p) => `[${p.rule}] ${p.message}`).join('\n')}`);
  return hit;
};

describe('no false refusals: what keepalived and nginx accept is accepted', () => {
  it('a /32 VIP on an interface whose own address is in a /24 (a routed VIP)', () => {
    expect(errors(edit([[...C, 'vips', 0, 'address'], '10.0.0.100/32']))).toEqual([]);
    expect(errors(edit([[...C, 'vips', 0, 'address'], '192.0.2.10/32']))).toEqual([]);
  });
  it('a /24 VIP outside the subnet is still refused, with /32 offered as the fix', () => {
    const p = one(edit([[...C, 'vips', 0, 'address'], '10.0.5.100/24']), 'vip-subnet', /does not contain/);
    expect(p.fix).toMatch(/write it as \/32 if it is routed/);
  });
  it('an extra directive with ; { } # inside quotes', () => {
    const text = edit([
      [...C, 'sites', 0, 'extra'],
      [`add_header Content-Security-Policy "default-src 'self'; img-src *"`, 'return 200 "#{ok}"'],
    ]);
    expect(errors(text)).toEqual([]);
  });
  it('nginx server_name forms: .example.com, www.example.*, $hostname, a regular expression', () => {
    const names = ['.example.com', 'www.example.*', '$hostname', '~^www\\d+\\.example\\.net$'];
    const r = loadText(edit([[...C, 'sites', 0, 'server_names'], names]));
    expect(r.problems.filter((p) => p.severity === 'error')).toEqual([]);
    expect(r.inventory!.clusters[0].sites[0].healthHost).toBe('example.com');
  });
  it('a health path with a query string', () => {
    const r = loadText(edit([[...C, 'sites', 0, 'health_path'], '/status?full=1&fmt=json']));
    expect(r.inventory!.clusters[0].sites[0].healthPath).toBe('/status?full=1&fmt=json');
  });
  it('proxy header values with $variables and ://', () => {
    const text = edit([
      [...C, 'sites', 0, 'proxy_headers'],
      { 'X-Origin': '$scheme://$host$request_uri', X_Id: '${request_id}' },
    ]);
    expect(errors(text)).toEqual([]);
  });
  it('an SSH user with capitals', () => {
    expect(errors(edit([['ssh'], { user: 'John.Doe' }]))).toEqual([]);
  });
});

describe('health checks need a literal Host', () => {
  it('is required when no server name is a plain name', () => {
    const text = edit([
      [...C, 'sites', 0, 'server_names'],
      ['~^api\\d+\\.example\\.com$', 'www.example.*'],
    ]);
    const p = one(text, 'health-host', /no server name is a plain host name/);
    expect(p.path).toBe('clusters[0].sites[0].server_names');
    expect(
      errors(
        edit(
          [[...C, 'sites', 0, 'server_names'], ['~^api\\d+$']],
          [[...C, 'sites', 0, 'health_host'], 'api1.example.com'],
        ),
      ),
    ).toEqual([]);
  });
  it('a wildcard health_host is refused: it is sent as the Host header', () => {
    one(
      edit([[...C, 'sites', 0, 'health_host'], '*.example.com']),
      'schema',
      /is a pattern; health_host is sent as the Host header/,
    );
  });
});

describe('addresses', () => {
  it.each([
    [['backends', 0, 'address'], '10.0.1.21:8080', /carries a port/, /port: 8080/],
    [['backends', 0, 'address'], '[2001:db8::21]', /in brackets/, /without brackets/],
    [['load_balancers', 0, 'address'], '10.0.0.11:2222', /carries a port/, /ssh: \{ port: 2222 \}/],
  ])('%j = %j', (path, value, message, fix) => {
    const p = one(edit([[...C, ...path], value]), 'schema', message);
    expect(p.fix).toMatch(fix);
    expect(p.path).toBe(`clusters[0].${path[0]}[0].address`);
  });
  it('an address shaped like an IPv4 must be one (nginx would look 10.0.1.300 up in DNS)', () => {
    one(edit([[...C, 'backends', 0, 'address'], '10.0.1.300']), 'address', /looks like an IPv4 address but is not one/);
  });
  it('a VIP with a port or a zone index', () => {
    one(edit([[...C, 'vips', 0, 'address'], '10.0.0.100:80/24']), 'address', /carries a port/);
    one(edit([[...C, 'vips', 0, 'address'], 'fe80::64%eth0/64']), 'address', /zone index/);
  });
  it('vrrp_address: an IP, with a prefix that exists', () => {
    one(edit([[...C, 'load_balancers', 0, 'vrrp_address'], '10.0.0.11/40']), 'address', /prefix longer than \/32/);
    one(edit([[...C, 'load_balancers', 0, 'vrrp_address'], '10.0.0.11:22']), 'schema', /carries a port/);
  });
});

describe('labels', () => {
  it('keepalived ignores a label on an IPv6 VIP', () => {
    const text = edit(
      [[...C, 'vips', 0, 'address'], '2001:db8::100/64'],
      [[...C, 'load_balancers', 0, 'vrrp_address'], '2001:db8::11'],
      [[...C, 'load_balancers', 1, 'vrrp_address'], '2001:db8::12'],
    );
    one(text, 'label', /ignores a label on an IPv6 address/);
  });
  it('is checked against each node interface', () => {
    const p = one(edit([[...C, 'load_balancers', 1, 'interface'], 'ens3']), 'label', /lb2 uses ens3/);
    expect(p.message).not.toMatch(/lb1 uses/);
  });
  it('longer than 15 characters: keepalived would drop the address', () => {
    one(edit([[...C, 'vips', 0, 'label'], 'eth0:averylongone']), 'schema', /keepalived drops the whole address/);
  });
});

describe('keepalived script timers: whole seconds, or probes within a run below one second', () => {
  const timers = (hc: object) => edit([[...C, 'health_check'], hc]);
  it.each([
    [{ interval: 1.5 }, 'interval', /interval 1.5 is not whole seconds/],
    [{ interval: 2, timeout: 1.5 }, 'timeout', /timeout 1.5 is not whole seconds/],
    [{ interval: 0.0005 }, 'interval', /probes every 0.05 to 0.9 s/],
    [{ interval: 0.125 }, 'interval', /in hundredths/],
    [{ interval: 0.95 }, 'interval', /probes every 0.05 to 0.9 s/],
    [{ interval: 0.1, timeout: 0.8 }, 'timeout', /each probe's timeout is 0.01 to 0.5 s/],
  ])('%j is refused at %s', (hc, key, message) => {
    const p = one(timers(hc), 'health-check', message);
    expect(p.path).toBe(`clusters[0].health_check.${key}`);
  });
  it.each([{ interval: 0.25, timeout: 0.25 }, { interval: 0.1 }, { interval: 3, timeout: 2 }])(
    '%j is accepted',
    (hc) => {
      expect(errors(timers(hc))).toEqual([]);
    },
  );
});

describe('the VRRP password as keepalived reads auth_pass', () => {
  it.each(['ab#cdef', 'ab!cd', 'a{b}', 'a$_PWD'])('%j is refused without being shown', (pass) => {
    const p = one(edit([[...C, 'vrrp', 'auth', 'pass'], pass]), 'auth-chars', /keepalived/);
    expect(JSON.stringify(p)).not.toContain(pass);
  });
  it('the same for a password from the environment', () => {
    const text = edit([[...C, 'vrrp', 'auth'], { type: 'PASS', pass_env: 'TEST_VRRP_PASS' }]);
    const p = one(text, 'auth-chars', /# or !/, { TEST_VRRP_PASS: 'x#secret' });
    expect(JSON.stringify(p)).not.toContain('x#secret');
  });
});
