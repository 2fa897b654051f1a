/**
 * Hostile and malformed inventories: each case is the valid BASE with one edit (or a whole
 * file), the problem it must produce and where. hostile-corpus.test.ts runs every case through
 * validate and render. Every secret in the corpus contains SECRET_MARK, so "no secret echoed"
 * is one check on all output.
 */
export const SECRET_MARK = 'SeCr';
export const ENV = { HACTL_CORPUS_PASS: 'Xy9_SeCr' };

/**
 * What the commands exit with today for an invalid inventory (validate 1, render 2). Another
 * engineer is reworking exit codes: change them here, in one place.
 */
export const EXIT = { ok: 0, validateInvalid: 2, renderInvalid: 2 } as const;

export const BASE = `ssh: { user: deploy, port: 22 }
clusters:
  - name: web
    interface: eth0
    load_balancers:
      - { name: lb1, address: 10.0.0.11 }
      - { name: lb2, address: 10.0.0.12 }
    vips:
      - { name: vip1, address: 10.0.0.100/24, vrid: 51, master: lb1, label: "eth0:1" }
      - name: vip2
        address: 10.0.0.101/24
        vrid: 52
        master: lb2
        auth: { type: PASS, pass_env: HACTL_CORPUS_PASS }
    vrrp:
      unicast: false
      auth: { type: PASS, pass: Zq7-SeCr }
    health_check: { mode: script, interval: 1, timeout: 1 }
    backends:
      - { name: web1, address: 10.0.1.21, port: 8080 }
      - { name: web2, address: 10.0.1.22, port: 8080 }
    sites:
      - name: www
        server_names: [www.example.com, example.com]
        vips: [vip1, vip2]
        backends: [web1, web2]
        health_path: /healthz
        proxy_headers: { Host: $host, X-Real-IP: $remote_addr }
        extra:
          - client_max_body_size 10m
`;

export interface Case {
  name: string;
  /** The file: BASE with these [from, to] replacements, or its whole text or bytes. */
  edit?: [string, string][];
  file?: string | Buffer;
  /** Written as latin-1 bytes instead of UTF-8. */
  latin1?: boolean;
  env?: NodeJS.ProcessEnv;
  /** Where the problem is: the first occurrence of this text in the file, or [line, col]. */
  at: string | [number, number];
  path: string;
  rule: string;
  message: RegExp;
  /** Exit codes when they differ from EXIT.validateInvalid / EXIT.renderInvalid. */
  exit?: { validate?: number; render?: number };
  /** Also run through the built CLI (a representative subset: each costs ~0.4 s). */
  cli?: boolean;
  /** Values besides SECRET_MARK that must not appear in any output. */
  secrets?: string[];
}

const aliasBomb = [
  'a: &a [x,x,x,x,x,x,x,x,x]',
  'b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]',
  'c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]',
  'clusters: [*c,*c,*c,*c,*c,*c,*c,*c,*c]',
].join('\n');

const PASS = 'pass: Zq7-SeCr';
const VIP1 = 'address: 10.0.0.100/24';
const LB1 = 'address: 10.0.0.11 }';
const WEB1 = 'address: 10.0.1.21,';
const NAMES = 'server_names: [www.example.com, example.com]';
const EXTRA = '- client_max_body_size 10m';
const HEADERS = 'proxy_headers: { Host: $host, X-Real-IP: $remote_addr }';
const S = 'clusters[0].sites[0]';
const yamlErr = (
  name: string,
  edit: [string, string][] | undefined,
  file: string | Buffer | undefined,
  at: Case['at'],
  message: RegExp,
  cli = false,
): Case => ({
  name,
  edit,
  file,
  at,
  path: '(yaml)',
  rule: 'yaml',
  message,
  cli,
});

/** The file as a whole, and YAML itself. */
const files: Case[] = [
  { name: 'empty file', file: '\n  \n', at: [1, 1], path: '(file)', rule: 'file', message: /is empty/ },
  {
    name: 'only comments',
    file: '# inventory\n',
    at: [1, 1],
    path: '(top level)',
    rule: 'schema',
    message: /holds only comments/,
  },
  { name: 'a list', file: '- clusters\n', at: [1, 1], path: '(top level)', rule: 'schema', message: /is a list/ },
  { name: 'a scalar', file: 'hello\n', at: [1, 1], path: '(top level)', rule: 'schema', message: /a single value/ },
  {
    name: 'binary (PNG header)',
    file: Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex'),
    at: [1, 1],
    path: '(file)',
    rule: 'file',
    message: /not UTF-8/,
    cli: true,
  },
  {
    name: 'latin-1 byte',
    edit: [['name: www', 'name: caf\u00e9']],
    latin1: true,
    at: '\u00e9',
    path: '(file)',
    rule: 'file',
    message: /not UTF-8/,
  },
  {
    name: 'UTF-16',
    file: Buffer.from(`\ufeff${BASE}`, 'utf16le'),
    at: [1, 1],
    path: '(file)',
    rule: 'file',
    message: /UTF-16/,
  },
  {
    name: 'over 1 MiB',
    file: `${BASE}#${'x'.repeat(1024 * 1024)}\n`,
    at: [1, 1],
    path: '(file)',
    rule: 'file',
    message: /larger than 1 MiB/,
    cli: true,
  },
  yamlErr('a NUL byte', [['name: www', 'name: w\u0000w']], undefined, '\u0000w', /NUL byte/),
  yamlErr('a control character', [['name: www', 'name: w\u001bw']], undefined, '\u001bw', /control character U\+001B/),
  yamlErr('two documents', [['ssh:', '---\nssh: {}\n---\nssh:']], undefined, [3, 1], /a second YAML document/, true),
  yamlErr(
    'tab indentation',
    [['    interface: eth0', '\tinterface: eth0']],
    undefined,
    '\tinterface',
    /Tabs are not allowed/,
  ),
  yamlErr('alias bomb', undefined, aliasBomb, '*a', /expand to more than 100 nodes/, true),
  yamlErr(
    'deep flow nesting',
    undefined,
    `clusters: ${'['.repeat(300000)}${']'.repeat(300000)}`,
    [1, 75],
    /deeper than 64 levels/,
    true,
  ),
  yamlErr(
    'nesting over 32 levels',
    [['vips: [vip1, vip2]', `vips: ${'['.repeat(40)}${']'.repeat(40)}`]],
    undefined,
    [25, 42],
    /deeper than 32 levels/,
  ),
  yamlErr(
    'merge key',
    [['  - name: web', '  - <<: { name: web }\n    name: web']],
    undefined,
    '<<',
    /merge keys \(<<\) are not supported/,
    true,
  ),
  yamlErr(
    'merge key under YAML 1.1',
    [
      ['ssh:', '%YAML 1.1\n---\nbase: &b { name: web }\nssh:'],
      ['  - name: web', '  - <<: *b'],
    ],
    undefined,
    '<<',
    /merge keys/,
  ),
  yamlErr(
    'duplicate key',
    [['    interface: eth0', '    interface: eth0\n    interface: eth1']],
    undefined,
    'interface: eth1',
    /duplicate key "interface" \(first at line 4\)/,
  ),
  yamlErr(
    'custom tag on the password',
    [[PASS, 'pass: !vault Zq7-SeCr']],
    undefined,
    '!vault',
    /Unresolved tag: !vault/,
  ),
  yamlErr('unterminated quote on the password', [[PASS, 'pass: "Zq7-SeCr']], undefined, '"Zq7', /./),
  // yaml reads the over-indented line as the continuation of "web", and says so there.
  yamlErr('bad indentation', [['    interface: eth0', '     interface: eth0']], undefined, [3, 11], /./),
  {
    name: 'BOM: line 1 columns as an editor counts them',
    file: `\ufeffvrsion: 1\n${BASE}`,
    at: [1, 1],
    path: 'vrsion',
    rule: 'schema',
    message: /unknown key "vrsion"/,
  },
  {
    name: 'a 900 000 character name',
    edit: [['name: web\n', `name: ${'x'.repeat(900000)}\n`]],
    at: 'xxxx',
    path: 'clusters[0].name',
    rule: 'schema',
    message: /… \(900000 characters\) is 900000 characters long/,
    cli: true,
  },
];

/** Wrong types: the message says how to write the value. */
const types: Case[] = [
  {
    name: 'unicast: yes',
    edit: [['unicast: false', 'unicast: yes']],
    at: 'yes',
    path: 'clusters[0].vrrp.unicast',
    rule: 'schema',
    message: /expected true or false, got "yes"/,
    cli: true,
  },
  {
    name: 'vrid quoted',
    edit: [['vrid: 52', 'vrid: "52"']],
    at: '"52"',
    path: 'clusters[0].vips[1].vrid',
    rule: 'schema',
    message: /expected a whole number, got "52"/,
  },
  {
    name: 'password as a number',
    edit: [[PASS, 'pass: 19283746']],
    at: '19283746',
    path: 'clusters[0].vrrp.auth.pass',
    rule: 'schema',
    message: /not shown: it is the password/,
    secrets: ['19283746'],
  },
  {
    name: 'a string where a list belongs',
    edit: [[NAMES, 'server_names: www.example.com']],
    at: 'www.example.com',
    path: `${S}.server_names`,
    rule: 'schema',
    message: /expected a list/,
  },
  {
    name: 'a mapping where a list belongs',
    edit: [['backends: [web1, web2]', 'backends: { web1: 1 }']],
    at: '{ web1',
    path: `${S}.backends`,
    rule: 'schema',
    message: /expected a list, got a mapping/,
  },
  {
    name: 'an empty value',
    edit: [['    interface: eth0', '    interface:']],
    at: 'interface:',
    path: 'clusters[0].interface',
    rule: 'schema',
    message: /expected text, got nothing/,
  },
  {
    name: 'a fraction for a port',
    edit: [['port: 22 }', 'port: 22.5 }']],
    at: '22.5',
    path: 'ssh.port',
    rule: 'schema',
    message: /expected a whole number, got 22.5/,
  },
  {
    name: 'a literal in the wrong case',
    edit: [['master: lb2', 'master: lb2\n        initial_state: backup']],
    at: 'backup',
    path: 'clusters[0].vips[1].initial_state',
    rule: 'schema',
    message: /"backup" is not one of/,
  },
  {
    name: 'a typo in a key',
    edit: [['vrid: 52', 'vrdi: 52']],
    at: 'vrdi',
    path: 'clusters[0].vips[1].vrdi',
    rule: 'schema',
    message: /unknown key "vrdi"/,
  },
  {
    name: 'out of range',
    edit: [['vrid: 52', 'vrid: 300']],
    at: '300',
    path: 'clusters[0].vips[1].vrid',
    rule: 'schema',
    message: /300 is out of range/,
  },
];

/** Strings that land in keepalived.conf. */
const keepalived: Case[] = [
  {
    name: 'cluster name with ;',
    edit: [['name: web\n', 'name: "web;x"\n']],
    at: '"web;x"',
    path: 'clusters[0].name',
    rule: 'schema',
    message: /contains ";"/,
  },
  {
    name: 'LB name with a space',
    edit: [['name: lb1,', 'name: "lb 1",']],
    at: '"lb 1"',
    path: 'clusters[0].load_balancers[0].name',
    rule: 'schema',
    message: /contains a space/,
  },
  {
    name: 'VIP name with a brace',
    edit: [['name: vip2', 'name: "vip2}"']],
    at: '"vip2}"',
    path: 'clusters[0].vips[1].name',
    rule: 'schema',
    message: /contains "\}"/,
  },
  {
    name: 'interface written as a label',
    edit: [['interface: eth0', 'interface: "eth0:1"']],
    at: '"eth0:1"\n',
    path: 'clusters[0].interface',
    rule: 'schema',
    message: /is an address label, not an interface/,
  },
  {
    name: 'interface name too long',
    edit: [['interface: eth0', 'interface: enp0s31f6abcdefgh']],
    at: 'enp0s31',
    path: 'clusters[0].interface',
    rule: 'schema',
    message: /at most 15/,
  },
  {
    name: 'label longer than 15',
    edit: [['label: "eth0:1"', 'label: "eth0:averylong01"']],
    at: '"eth0:averylong01"',
    path: 'clusters[0].vips[0].label',
    rule: 'schema',
    message: /keepalived drops the whole address/,
  },
  {
    name: 'label with #',
    edit: [['label: "eth0:1"', 'label: "eth0:#1"']],
    at: '"eth0:#1"',
    path: 'clusters[0].vips[0].label',
    rule: 'schema',
    message: /contains "#"/,
  },
  {
    name: 'label on an IPv6 VIP',
    edit: [['address: 10.0.0.101/24', 'address: 2001:db8::101/64\n        label: "eth0:2"']],
    at: '"eth0:2"',
    path: 'clusters[0].vips[1].label',
    rule: 'label',
    message: /ignores a label on an IPv6 address/,
  },
  {
    name: 'password with #',
    edit: [[PASS, 'pass: "Zq#-SeCr"']],
    at: '"Zq#',
    path: 'clusters[0].vrrp.auth.pass',
    rule: 'auth-chars',
    message: /# or !/,
    cli: true,
  },
  {
    name: 'password with !',
    edit: [[PASS, 'pass: "Zq!-SeCr"']],
    at: '"Zq!',
    path: 'clusters[0].vrrp.auth.pass',
    rule: 'auth-chars',
    message: /# or !/,
  },
  {
    name: 'password with $_PWD',
    edit: [[PASS, 'pass: "$_PWDSeCr"']],
    at: '"$_PWD',
    path: 'clusters[0].vrrp.auth.pass',
    rule: 'auth-chars',
    message: /replaces by a definition/,
  },
  {
    name: 'password with a space',
    edit: [[PASS, 'pass: "Zq SeCr"']],
    at: '"Zq ',
    path: 'clusters[0].vrrp.auth.pass',
    rule: 'auth-chars',
    message: /without spaces/,
  },
  {
    name: 'password longer than 8',
    edit: [[PASS, 'pass: Zq7-SeCr-long']],
    at: 'Zq7-SeCr-long',
    path: 'clusters[0].vrrp.auth.pass',
    rule: 'auth-length',
    message: /silently uses only the first 8/,
  },
  {
    name: 'password from the environment with {',
    edit: [],
    env: { HACTL_CORPUS_PASS: 'Xy{SeCr}' },
    at: 'HACTL_CORPUS_PASS',
    path: 'clusters[0].vips[1].auth.pass_env',
    rule: 'auth-chars',
    message: /a quote, an escape or a block/,
    secrets: ['Xy{SeCr}'],
    cli: true,
  },
  {
    name: 'password variable not set (validate warns; render refuses)',
    edit: [],
    env: {},
    at: 'HACTL_CORPUS_PASS',
    path: 'clusters[0].vips[1].auth.pass_env',
    rule: 'auth-env',
    message: /HACTL_CORPUS_PASS is not set/,
    exit: { validate: EXIT.ok },
  },
  {
    name: 'pass_env written as $NAME',
    edit: [['pass_env: HACTL_CORPUS_PASS', 'pass_env: $HACTL_CORPUS_PASS']],
    at: '$HACTL',
    path: 'clusters[0].vips[1].auth.pass_env',
    rule: 'schema',
    message: /starts with \$/,
  },
  {
    name: 'vrrp_address with a port',
    edit: [[LB1, `${LB1.slice(0, -2)}, vrrp_address: "10.0.0.11:22" }`]],
    at: '"10.0.0.11:22"',
    path: 'clusters[0].load_balancers[0].vrrp_address',
    rule: 'schema',
    message: /carries a port/,
  },
  {
    name: 'vrrp_address not an IP',
    edit: [[LB1, `${LB1.slice(0, -2)}, vrrp_address: 10.0.0.311 }`]],
    at: '10.0.0.311',
    path: 'clusters[0].load_balancers[0].vrrp_address',
    rule: 'address',
    message: /is not an IP address/,
  },
  {
    name: 'VIP with a port',
    edit: [[VIP1, 'address: "10.0.0.100:80/24"']],
    at: '"10.0.0.100:80',
    path: 'clusters[0].vips[0].address',
    rule: 'address',
    message: /carries a port/,
  },
  {
    name: 'VIP with a zone index',
    edit: [['address: 10.0.0.101/24', 'address: "fe80::101%eth0/64"']],
    at: '"fe80',
    path: 'clusters[0].vips[1].address',
    rule: 'address',
    message: /zone index/,
  },
  {
    name: 'VIP without a prefix',
    edit: [[VIP1, 'address: 10.0.0.100']],
    at: '10.0.0.100,',
    path: 'clusters[0].vips[0].address',
    rule: 'address',
    message: /not an address with a prefix/,
  },
  {
    name: 'VIP in brackets',
    edit: [['address: 10.0.0.101/24', 'address: "[2001:db8::101]/64"']],
    at: '"[2001',
    path: 'clusters[0].vips[1].address',
    rule: 'address',
    message: /in brackets/,
  },
  {
    name: 'script interval keepalived cannot read',
    edit: [['interval: 1,', 'interval: 0.0005,']],
    at: '0.0005',
    path: 'clusters[0].health_check.interval',
    rule: 'health-check',
    message: /probes every 0.05 to 0.9 s/,
  },
];

/** Strings that land in nginx.conf, or in the HTTP requests of the checks. */
const nginx: Case[] = [
  {
    name: 'server name with ;',
    edit: [[NAMES, 'server_names: ["example.com;evil"]']],
    at: '"example.com;evil"',
    path: `${S}.server_names[0]`,
    rule: 'schema',
    message: /contains ";"/,
    cli: true,
  },
  {
    name: 'server name regex with braces',
    edit: [[NAMES, 'server_names: ["~^w\\\\d{3}$", example.com]']],
    at: '"~^w',
    path: `${S}.server_names[0]`,
    rule: 'schema',
    message: /nginx would end the name there/,
  },
  {
    name: 'server name regex with \\\\',
    edit: [[NAMES, 'server_names: ["~^a\\\\\\\\b$", example.com]']],
    at: '"~^a',
    path: `${S}.server_names[0]`,
    rule: 'schema',
    message: /rewrites/,
  },
  {
    name: 'server name with a port',
    edit: [[NAMES, 'server_names: [www.example.com:8080]']],
    at: 'www.example.com:8080',
    path: `${S}.server_names[0]`,
    rule: 'schema',
    message: /carries a port/,
  },
  {
    name: 'server name with a middle wildcard',
    edit: [[NAMES, 'server_names: [www.*.example.com]']],
    at: 'www.*',
    path: `${S}.server_names[0]`,
    rule: 'schema',
    message: /wildcard nginx does not take/,
  },
  {
    name: 'empty server name',
    edit: [[NAMES, 'server_names: ["", example.com]']],
    at: '""',
    path: `${S}.server_names[0]`,
    rule: 'schema',
    message: /would vanish from the list/,
  },
  {
    name: 'server name variable',
    edit: [[NAMES, 'server_names: [$host]']],
    at: '$host]',
    path: `${S}.server_names[0]`,
    rule: 'schema',
    message: /takes only \$hostname/,
  },
  {
    name: 'no plain server name and no health_host',
    edit: [[NAMES, 'server_names: ["~^www\\\\d+$", $hostname]']],
    at: '["~',
    path: `${S}.server_names`,
    rule: 'health-host',
    message: /no server name is a plain host name/,
  },
  {
    name: 'extra: a second directive after ;',
    edit: [[EXTRA, '- client_max_body_size 10m; include /etc/passwd']],
    at: 'client_max',
    path: `${S}.extra[0]`,
    rule: 'extra-directive',
    message: /the ; at character 25 ends the directive/,
    cli: true,
  },
  {
    name: 'extra: } closes the server block',
    edit: [[EXTRA, '- "return 200 } server { listen 81"']],
    at: '"return',
    path: `${S}.extra[0]`,
    rule: 'extra-directive',
    message: /would close the server block/,
  },
  {
    name: 'extra: # comments out the ;',
    edit: [[EXTRA, '- "gzip on #"']],
    at: '"gzip',
    path: `${S}.extra[0]`,
    rule: 'extra-directive',
    message: /starts a comment/,
  },
  {
    name: 'extra: unclosed quote',
    edit: [[EXTRA, `- 'return 200 "ok'`]],
    at: "'return",
    path: `${S}.extra[0]`,
    rule: 'extra-directive',
    message: /quote is not closed/,
  },
  {
    name: 'extra: final backslash',
    edit: [[EXTRA, '- return 200 ok\\']],
    at: 'return 200',
    path: `${S}.extra[0]`,
    rule: 'extra-directive',
    message: /final \\ would escape/,
  },
  {
    name: 'extra: a line break',
    edit: [[EXTRA, '- "return 200\\nok"']],
    at: '"return',
    path: `${S}.extra[0]`,
    rule: 'extra-directive',
    message: /line break/,
  },
  {
    name: 'extra: a block',
    edit: [[EXTRA, '- "location /x { return 403"']],
    at: '"location',
    path: `${S}.extra[0]`,
    rule: 'extra-directive',
    message: /opens a block/,
  },
  {
    name: 'proxy header name injects a directive',
    edit: [[HEADERS, 'proxy_headers: { "X-A; evil": $host }']],
    at: '"X-A',
    path: `${S}.proxy_headers.X-A; evil`,
    rule: 'schema',
    message: /the name "X-A; evil" contains ";" and a space/,
    cli: true,
  },
  {
    name: 'proxy header value with a space',
    edit: [[HEADERS, 'proxy_headers: { Host: "$host evil" }']],
    at: '"$host evil"',
    path: `${S}.proxy_headers.Host`,
    rule: 'schema',
    message: /contains a space/,
  },
  {
    name: 'proxy header value with ;',
    edit: [[HEADERS, 'proxy_headers: { Host: "$host;evil" }']],
    at: '"$host;',
    path: `${S}.proxy_headers.Host`,
    rule: 'schema',
    message: /would end the directive/,
  },
  {
    name: 'proxy header value with a brace',
    edit: [[HEADERS, 'proxy_headers: { Host: "a{b" }']],
    at: '"a{b"',
    path: `${S}.proxy_headers.Host`,
    rule: 'schema',
    message: /brace/,
  },
  {
    name: 'proxy header empty value',
    edit: [[HEADERS, 'proxy_headers: { Accept-Encoding: "" }']],
    at: '""',
    path: `${S}.proxy_headers.Accept-Encoding`,
    rule: 'schema',
    message: /is empty/,
  },
  {
    name: 'health_host wildcard',
    edit: [['health_path: /healthz', 'health_path: /healthz\n        health_host: "*.example.com"']],
    at: '"*.example',
    path: `${S}.health_host`,
    rule: 'schema',
    message: /is a pattern/,
  },
  {
    name: 'health_path with a space',
    edit: [['health_path: /healthz', 'health_path: "/health z"']],
    at: '"/health z"',
    path: `${S}.health_path`,
    rule: 'schema',
    message: /a space/,
  },
  {
    name: 'health_path with a fragment',
    edit: [['health_path: /healthz', 'health_path: "/healthz#x"']],
    at: '"/healthz#x"',
    path: `${S}.health_path`,
    rule: 'schema',
    message: /fragment/,
  },
  {
    name: 'health_path without /',
    edit: [['health_path: /healthz', 'health_path: healthz']],
    at: 'healthz\n',
    path: `${S}.health_path`,
    rule: 'schema',
    message: /does not start with \//,
  },
  {
    name: 'backend with a port',
    edit: [[WEB1, 'address: "10.0.1.21:8080",']],
    at: '"10.0.1.21:8080"',
    path: 'clusters[0].backends[0].address',
    rule: 'schema',
    message: /carries a port/,
    cli: true,
  },
  {
    name: 'backend in brackets',
    edit: [[WEB1, 'address: "[2001:db8::21]",']],
    at: '"[2001',
    path: 'clusters[0].backends[0].address',
    rule: 'schema',
    message: /in brackets/,
  },
  {
    name: 'backend as a URL',
    edit: [[WEB1, 'address: "http://10.0.1.21",']],
    at: '"http',
    path: 'clusters[0].backends[0].address',
    rule: 'schema',
    message: /is a URL/,
  },
  {
    name: 'backend IPv4 out of range',
    edit: [[WEB1, 'address: 10.0.1.300,']],
    at: '10.0.1.300',
    path: 'clusters[0].backends[0].address',
    rule: 'address',
    message: /looks like an IPv4 address but is not one/,
  },
  {
    name: 'backend unix socket',
    edit: [[WEB1, 'address: "unix:/run/app.sock",']],
    at: '"unix',
    path: 'clusters[0].backends[0].address',
    rule: 'schema',
    message: /unix socket/,
  },
  {
    name: 'upstream name with /',
    edit: [['health_path: /healthz', 'health_path: /healthz\n        upstream: "a/b"']],
    at: '"a/b"',
    path: `${S}.upstream`,
    rule: 'schema',
    message: /contains "\/"/,
  },
];

/** Strings that reach SSH and shell commands. */
const ssh: Case[] = [
  {
    name: 'LB address with a port',
    edit: [[LB1, 'address: "10.0.0.11:2222" }']],
    at: '"10.0.0.11:2222"',
    path: 'clusters[0].load_balancers[0].address',
    rule: 'schema',
    message: /carries a port/,
  },
  {
    name: 'LB address as an ssh option',
    edit: [[LB1, 'address: "-oProxyCommand=id" }']],
    at: '"-o',
    path: 'clusters[0].load_balancers[0].address',
    rule: 'schema',
    message: /contains "="/,
    cli: true,
  },
  {
    name: 'LB address with user@',
    edit: [[LB1, 'address: root@10.0.0.11 }']],
    at: 'root@',
    path: 'clusters[0].load_balancers[0].address',
    rule: 'schema',
    message: /user@/,
  },
  {
    name: 'ssh user with ;',
    edit: [['user: deploy', 'user: "deploy;id"']],
    at: '"deploy;id"',
    path: 'ssh.user',
    rule: 'schema',
    message: /contains ";"/,
  },
  {
    name: 'jump host chain',
    edit: [['user: deploy', 'user: deploy, jump_host: "a,b"']],
    at: '"a,b"',
    path: 'ssh.jump_host',
    rule: 'schema',
    message: /chain of jump hosts/,
  },
  {
    name: 'jump host as an option',
    edit: [['user: deploy', 'user: deploy, jump_host: -oProxyCommand']],
    at: '-oProxy',
    path: 'ssh.jump_host',
    rule: 'schema',
    message: /starts with -/,
  },
  {
    name: 'jump host port out of range',
    edit: [['user: deploy', 'user: deploy, jump_host: "bastion:99999"']],
    at: '"bastion',
    path: 'ssh.jump_host',
    rule: 'schema',
    message: /port outside 1-65535/,
  },
  {
    name: 'identity_file with NUL',
    edit: [['user: deploy', 'user: deploy, identity_file: "a\\0b"']],
    at: '"a\\0b"',
    path: 'ssh.identity_file',
    rule: 'schema',
    message: /NUL/,
  },
];

export const REFUSED: Case[] = [...files, ...types, ...keepalived, ...nginx, ...ssh];

/** What keepalived and nginx accept: rendered, with the line they must contain. */
export interface Accepted {
  name: string;
  edit: [string, string][];
  file: string;
  line: string;
  cli?: boolean;
}

export const ACCEPTED: Accepted[] = [
  {
    name: 'a /32 VIP outside the node subnet',
    edit: [[VIP1, 'address: 192.0.2.10/32']],
    file: '/etc/keepalived/keepalived.conf',
    line: '        192.0.2.10/32 dev eth0 label eth0:1',
    cli: true,
  },
  {
    name: 'a regular expression server name',
    edit: [[NAMES, 'server_names: ["~^www\\\\d+\\\\.example\\\\.com$", example.com]']],
    file: '/etc/nginx/conf.d/hactl-web.conf',
    line: '    server_name ~^www\\d+\\.example\\.com$ example.com;',
  },
  {
    name: 'extra with ; inside quotes',
    edit: [[EXTRA, `- add_header Content-Security-Policy "default-src 'self'; img-src *"`]],
    file: '/etc/nginx/conf.d/hactl-web.conf',
    line: `    add_header Content-Security-Policy "default-src 'self'; img-src *";`,
  },
  {
    name: 'a header value of variables',
    edit: [[HEADERS, 'proxy_headers: { X-Origin: "$scheme://$host${request_uri}" }']],
    file: '/etc/nginx/conf.d/hactl-web.conf',
    line: '        proxy_set_header X-Origin $scheme://$host${request_uri};',
  },
  {
    name: 'an IPv6 backend, bracketed by hactl',
    edit: [[WEB1, 'address: "2001:db8::21",']],
    file: '/etc/nginx/conf.d/hactl-web.conf',
    line: '    server [2001:db8::21]:8080;',
  },
  {
    name: 'a password with $ before a digit and =',
    edit: [[PASS, 'pass: "a$5=SeCr"']],
    file: '/etc/keepalived/keepalived.conf',
    line: '        auth_pass a$5=SeCr',
  },
  { name: 'a BOM', edit: [['ssh:', '\ufeffssh:']], file: '/etc/keepalived/keepalived.conf', line: '    router_id lb1' },
];
