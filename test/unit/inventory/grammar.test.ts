/**
 * Each field grammar: the values the target file reads with the meaning written are accepted by
 * the pattern (so editors and ajv agree), and each refused value gets the specific reason.
 */
import type { Grammar } from '../../../src/inventory/grammar.js';
import {
  ENV_NAME,
  FILE_PATH,
  INTERFACE,
  JUMP_HOST,
  LABEL,
  NAME,
  SSH_USER,
} from '../../../src/inventory/grammar-names.js';
import { HOST, VRRP_ADDRESS, cidrProblem, ipShapeProblem } from '../../../src/inventory/grammar-addresses.js';
import {
  HEADER_NAME,
  HEADER_VALUE,
  HEALTH_HOST,
  HEALTH_PATH,
  SERVER_NAME,
} from '../../../src/inventory/grammar-nginx.js';
import { passwordCharsProblem } from '../../../src/inventory/grammar-keepalived.js';
import { directiveProblem } from '../../../src/inventory/nginx-directive.js';
import { FIELD_GRAMMARS, grammarOf } from '../../../src/inventory/field-grammars.js';

// ajv compiles patterns with the u flag.
const accepts = (g: Grammar, v: string) => new RegExp(g.pattern, 'u').test(v);

function table(name: string, g: Grammar, ok: string[], bad: [string, RegExp][], path: (string | number)[] = []) {
  describe(name, () => {
    it.each(ok)('accepts %j', (v) => expect(accepts(g, v)).toBe(true));
    it.each(bad)('refuses %j: %s', (v, reason) => {
      expect(accepts(g, v)).toBe(false);
      const verdict = g.explain(v, path);
      expect(verdict.message).toMatch(reason);
      expect(verdict.fix.length).toBeGreaterThan(0);
    });
  });
}

table(
  'names (router_id, vrrp_instance, upstream, file names)',
  NAME,
  ['lb1', 'kl1.example', 'web_2', 'A-b.c'],
  [
    ['web; rm', /contains ";" and a space/],
    ['a"b', /contains "\\""/],
    ['-x', /must start with a letter/],
    ['x'.repeat(64), /64 characters long/],
    ['', /is empty/],
  ],
);

table(
  'interfaces (keepalived interface, dev)',
  INTERFACE,
  ['eth0', 'ens3', 'bond0.100', 'br-lan', 'veth_a@b'],
  [
    ['eth0:1', /is an address label, not an interface/],
    ['eth 0', /a space/],
    ['averyveryverylongif0', /at most 15/],
    ['eth0#', /"#"/],
  ],
);

table(
  'address labels',
  LABEL,
  ['eth0:1', 'bond0.100:vip'],
  [
    ['eth0:averylonglabel', /keepalived drops the whole address/],
    ['eth0', /has no ":"/],
    ['eth0:a b', /a space/],
  ],
);

table(
  'hosts (backend and SSH addresses)',
  HOST,
  ['10.0.1.21', 'web-1.example.com', 'web.example.com.', '2001:db8::21', '::1', 'svc_a.internal'],
  [
    ['10.0.1.21:80', /carries a port/],
    ['[2001:db8::21]', /is in brackets/],
    ['[2001:db8::21]:8080', /carries a port/],
    ['fe80::1%eth0', /zone index/],
    ['http://web1', /is a URL/],
    ['unix:/run/app.sock', /unix socket/],
    ['root@10.0.0.1', /user@/],
    ['-oProxyCommand=x', /contains "="/],
    ['web;1', /contains ";"/],
    ['-web', /not a host name/],
  ],
  ['clusters', 0, 'backends', 0, 'address'],
);

describe('the port fix says where the port goes', () => {
  it('for a backend: port:', () => {
    expect(HOST.explain('10.0.1.21:8080', ['clusters', 0, 'backends', 0, 'address']).fix).toBe(
      'write address: 10.0.1.21 and port: 8080',
    );
  });
  it('for a load balancer: ssh.port', () => {
    expect(HOST.explain('10.0.0.11:2222', ['clusters', 0, 'load_balancers', 0, 'address']).fix).toMatch(
      /ssh: \{ port: 2222 \}/,
    );
  });
});

table(
  'vrrp_address',
  VRRP_ADDRESS,
  ['10.0.0.11', '10.0.0.11/24', '2001:db8::11/64'],
  [
    ['10.0.0.11:22', /carries a port/],
    ['lb1.example.com', /not an IP address/],
  ],
);

describe('IP-shaped hosts and VIP addresses', () => {
  it.each([
    ['10.0.0.300', /looks like an IPv4 address but is not one/],
    ['1.2.3', /looks like an IPv4/],
    ['2001:db8:::1', /not a valid IPv6/],
  ])('%j', (v, m) => expect(ipShapeProblem(v)?.message).toMatch(m));
  it.each(['10.0.0.1', 'db.example.com', '2001:db8::1'])('%j is fine', (v) =>
    expect(ipShapeProblem(v)).toBeUndefined(),
  );
  it.each([
    ['10.0.0.100:80/24', /carries a port/],
    ['10.0.0.100/24:80', /carries a port/],
    ['[2001:db8::60]/64', /is in brackets/],
    ['fe80::60%eth0/64', /zone index/],
    ['10.0.0.100', /not an address with a prefix/],
    ['10.0.0.100/33', /longer than \/32/],
    ['vip.example.com/24', /not an IP address/],
  ])('VIP %j', (v, m) => expect(cidrProblem(v)?.message).toMatch(m));
  it.each(['10.0.0.100/24', '192.0.2.10/32', '2001:db8:0:0:0:0:0:60/64', '2001:db8::60/128'])('VIP %j is fine', (v) =>
    expect(cidrProblem(v)).toBeUndefined(),
  );
});

table(
  'server names (nginx server_name, unquoted)',
  SERVER_NAME,
  [
    'www.example.com',
    'EXAMPLE.com',
    '*.example.com',
    'www.example.*',
    '.example.com',
    '_',
    '10.0.0.100',
    '$hostname',
    '~^www\\d+\\.example\\.net$',
    '~^(?<user>.+)\\.example\\.net$',
    '~^a\\;b$',
    '~^"quoted"$',
  ],
  [
    ['', /is empty/],
    ['www.example.com:8080', /carries a port/],
    ['www.*.example.com', /wildcard nginx does not take/],
    ['*example.com', /wildcard/],
    ['*.example.*', /wildcard/],
    ['http://www.example.com/', /URL/],
    ['example.com.', /ends with a dot/],
    ['a b', /a space/],
    ['$host', /only \$hostname/],
    ['~^\\d{3}\\.example\\.com$', /contains "\{" and "\}".*end the name/],
    ['~^a b$', /a space/],
    ['~^a;b$', /";"/],
    ['~^a\\\\b$', /rewrites/],
    ['~^a\\tb$', /rewrites/],
    ['~^ab\\', /final \\/],
    ['~', /empty regular expression/],
  ],
);

table(
  'health_host (the Host header of the checks)',
  HEALTH_HOST,
  ['www.example.com', 'www.example.com:8080', '10.0.0.100', '[2001:db8::60]:80'],
  [
    ['*.example.com', /is a pattern/],
    ['~^x$', /is a pattern/],
    ['http://www.example.com', /URL/],
    ['a b', /a space/],
  ],
);

table(
  'health_path (an HTTP request path; reaches shells only through sh())',
  HEALTH_PATH,
  ['/', '/healthz', '/status?full=1&x=y', "/a;b,c=d:e@f!$&'()*+", '/%20x', '/$(id)'],
  [
    ['healthz', /does not start with \//],
    ['/a b', /a space/],
    ['/a#frag', /fragment/],
    ['/100%', /%XX/],
    ['/a"b', /"\\""/],
    ['/{a}', /"\{"/],
    ['/a\nb', /a line break/],
    ['http://x/health', /whole URL/],
  ],
);

table(
  'proxy_set_header names',
  HEADER_NAME,
  ['Host', 'X-Forwarded-For', 'X_Custom'],
  [
    ['Host:', /ends with ":"/],
    ['X-A; evil', /";" and a space/],
    ['X{', /"\{"/],
  ],
);

table(
  'proxy_set_header values (one unquoted nginx word)',
  HEADER_VALUE,
  ['$host', '$proxy_add_x_forwarded_for', '$scheme://$host$request_uri', 'for=${remote_addr}x', 'a#b', "it's", '$1'],
  [
    ['', /is empty/],
    ['$host evil', /a space/],
    ['$host;evil', /would end the directive/],
    ['#x', /a comment/],
    ['"quoted"', /a quote/],
    ['a\\b', /escape/],
    ['{x}', /brace/],
    ['$', /does not start a variable/],
    ['a$-b', /does not start a variable/],
    ['é', /"é"/],
  ],
);

table(
  'environment variable names',
  ENV_NAME,
  ['HACTL_VRRP_PASS', '_x1'],
  [
    ['$HACTL_VRRP_PASS', /starts with \$/],
    ['A-B', /"-"/],
  ],
);

table(
  'SSH users',
  SSH_USER,
  ['root', 'deploy', 'John.Doe', 'svc_1', 'host$'],
  [
    ['deploy@lb1', /contains @/],
    ['a b', /a space/],
    ['-x', /not a user name/],
  ],
);

table('file paths', FILE_PATH, ['~/.ssh/id_ed25519', '/etc/x y'], [['a\u0000b', /NUL/]]);

table(
  'jump hosts',
  JUMP_HOST,
  ['bastion', 'admin@bastion.example.com:2222', '[2001:db8::1]:22'],
  [
    ['a,b', /chain of jump hosts/],
    ['ssh://bastion', /URL/],
    ['-oProxyCommand', /starts with -/],
    ['bas tion', /a space/],
    ['bastion:99999', /port outside 1-65535/],
    ['2001:db8::1', /in brackets/],
  ],
);

describe('the VRRP password (auth_pass, unquoted in keepalived.conf)', () => {
  it.each(['s3cret', 'A-b_c.9', 'x=y%z', "it's", '$5', 'a$'])('accepts %j', (p) =>
    expect(passwordCharsProblem(p)).toBeUndefined(),
  );
  it.each([
    ['ab#cd', /# or !/],
    ['ab!cd', /# or !/],
    ['a"b', /quote/],
    ['a\\b', /escape/],
    ['{ab}', /block/],
    ['a$_PWD', /definition/],
    ['$ab', /definition/],
    ['a b', /printable ASCII without spaces/],
    ['pässwd', /printable ASCII/],
  ])('refuses %j without naming it', (p, m) => {
    const reason = passwordCharsProblem(p)!;
    expect(reason).toMatch(m);
    expect(reason).not.toContain(p);
  });
});

describe('extra: one simple nginx directive, read as nginx reads it', () => {
  it.each([
    'client_max_body_size 10m',
    'add_header X-Frame-Options "DENY"',
    `add_header Content-Security-Policy "default-src 'self'; img-src *"`,
    'return 200 "#ok {}"',
    "add_header X-A 'a;b'",
    'set $x ${host}y',
    'add_header X-A a#b',
    'add_header X-A a}b',
    'add_header X-A a\\;b',
    'add_header\tX-A b',
    'add_header X-A "a \\" b"',
  ])('accepts %j', (d) => expect(directiveProblem(d)).toBeUndefined());
  it.each([
    ['gzip on; evil', /the ; at character 8 ends the directive/],
    ['location / { }', /the \{ at character 12 opens a block/],
    ['x # comment', /the # at character 3 starts a comment/],
    ['add_header X a\nb', /line break.*one line/],
    ['return 200 }', /would close the server block/],
    ['return 200 "abc', /quote is not closed/],
    ["return 200 'abc", /quote is not closed/],
    ['return 200 "a"b', /must be followed by a space/],
    ['return 200 abc\\', /final \\ would escape the ;/],
    ['return 200 $a{', /opens a block/],
    ['Gzip on', /"Gzip" is not a directive name/],
    ['  ', /empty/],
  ])('refuses %j', (d, m) => expect(directiveProblem(d)?.message).toMatch(m));
});

it('every grammar is found by its own pattern, and no two share one', () => {
  for (const g of FIELD_GRAMMARS) expect(grammarOf(g.pattern)).toBe(g);
  expect(new Set(FIELD_GRAMMARS.map((g) => g.pattern)).size).toBe(FIELD_GRAMMARS.length);
});
