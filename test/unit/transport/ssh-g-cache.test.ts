/**
 * ssh -G answers kept between runs (ssh-g-cache.ts), against the real OpenSSH client: an answer
 * is reused only while everything ssh reads is unchanged, and where an answer can depend on
 * something hactl cannot see (a command, the network, DNS), ssh is asked every time. The `ssh`
 * here logs each run and then is the real one.
 */
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openSshLookup } from '../../../src/transport/openssh-config.js';
import { SshGCache, sshGFingerprint } from '../../../src/transport/ssh-g-cache.js';
import { cacheFile } from '../../../src/util/cache-file.js';

let dir: string;
let ssh: string;
let log: string;
let config: string;
let store: string;
const realSsh = '/usr/bin/ssh';

function writeSsh(extra = '') {
  writeFileSync(ssh, `#!/bin/sh\n${extra}for a; do h=$a; done\necho "$h" >> ${log}\nexec ${realSsh} "$@"\n`);
  chmodSync(ssh, 0o755);
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'hactl-ssh-g-cache-'));
  ssh = join(dir, 'ssh');
  log = join(dir, 'log');
  config = join(dir, 'config');
  store = join(dir, 'cache', 'ssh-g.json');
  writeSsh();
  writeFileSync(log, '');
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const runs = () => readFileSync(log, 'utf8').split('\n').filter(Boolean);

/** One hactl run: a fresh cache object over the same file, saved at the end as at exit. */
async function run(hosts: string[], over: { user?: string; port?: number } = {}) {
  const cache = new SshGCache(store);
  const lookup = openSshLookup({ ssh, configPath: config, cache });
  const got = await Promise.all(hosts.map((h) => lookup(h, over)));
  cache.save();
  return got;
}

test('the second run asks ssh nothing and gets the same answers; other overrides are asked', async () => {
  writeFileSync(config, 'Host lb*\n  HostName %h.example.net\n  User deploy\n  Port 2222\n  IdentityFile /keys/%h\n');
  const first = await run(['lb1', 'lb2']);
  expect(runs().sort()).toEqual(['lb1', 'lb2']);
  expect(first[0]).toMatchObject({
    hostName: 'lb1.example.net',
    user: 'deploy',
    port: 2222,
    identityFiles: ['/keys/%h'],
  });
  writeFileSync(log, '');
  expect(await run(['lb2', 'lb1'])).toEqual([first[1], first[0]]);
  expect(runs()).toEqual([]);
  // Another user or port is another question.
  expect((await run(['lb1'], { port: 22 }))[0].port).toBe(22);
  expect(runs()).toEqual(['lb1']);
  // Only the lines hactl reads are kept.
  const kept = readFileSync(store, 'utf8');
  expect(kept).toContain('hostname lb1.example.net');
  expect(kept).not.toMatch(/ciphers|kexalgorithms|serveraliveinterval/);
});

test('an edited config, even of the same length, is asked again', async () => {
  writeFileSync(config, 'Host lb1\n  User alice\n');
  expect((await run(['lb1']))[0].user).toBe('alice');
  writeFileSync(config, 'Host lb1\n  User bobby\n');
  expect((await run(['lb1']))[0].user).toBe('bobby');
  expect(runs()).toEqual(['lb1', 'lb1']);
});

test('Include: a file added to a globbed directory, or created where an Include pointed at nothing, is asked again', async () => {
  mkdirSync(join(dir, 'conf.d'));
  writeFileSync(config, `Include ${dir}/conf.d/*.conf\nInclude ${dir}/later\n`);
  expect((await run(['lb1']))[0].user).toBeUndefined();
  writeFileSync(join(dir, 'conf.d', 'a.conf'), 'Host lb1\n  Port 2200\n');
  expect((await run(['lb1']))[0].port).toBe(2200);
  writeFileSync(join(dir, 'later'), 'Host lb1\n  User late\n');
  expect((await run(['lb1']))[0].user).toBe('late');
  // Nested: an edit two Includes deep.
  writeFileSync(join(dir, 'later'), `Include ${dir}/deeper\n`);
  writeFileSync(join(dir, 'deeper'), 'Host lb1\n  User deep\n');
  expect((await run(['lb1']))[0].user).toBe('deep');
  writeFileSync(join(dir, 'deeper'), 'Host lb1\n  User DEEP\n');
  expect((await run(['lb1']))[0].user).toBe('DEEP');
  expect(runs()).toHaveLength(5);
  await run(['lb1']);
  expect(runs()).toHaveLength(5);
});

test('a new ssh binary (an upgrade) is asked again', async () => {
  writeFileSync(config, 'Host lb1\n  User alice\n');
  await run(['lb1']);
  writeSsh('# upgraded\n');
  await run(['lb1']);
  expect(runs()).toEqual(['lb1', 'lb1']);
});

test('a ${VAR} the config names is part of the fingerprint', async () => {
  writeFileSync(config, 'Host lb1\n  IdentityFile ${HACTL_TEST_KEYS}/id\n');
  const before = process.env.HACTL_TEST_KEYS;
  try {
    process.env.HACTL_TEST_KEYS = '/a';
    await run(['lb1']);
    await run(['lb1']);
    process.env.HACTL_TEST_KEYS = '/b';
    await run(['lb1']);
    expect(runs()).toEqual(['lb1', 'lb1']);
  } finally {
    if (before === undefined) delete process.env.HACTL_TEST_KEYS;
    else process.env.HACTL_TEST_KEYS = before;
  }
});

test('Match localnetwork (the network decides; OpenSSH 9.4 and later) is never kept', async () => {
  writeFileSync(config, 'Match localnetwork 10.0.0.0/8\n  User x\n');
  expect(await sshGFingerprint({ ssh, wrapper: 'w', files: [config] })).toBeUndefined();
  writeFileSync(config, 'Host a\n  User x\nMatch !LocalNetwork 10.0.0.0/8\n  User x\n');
  expect(await sshGFingerprint({ ssh, wrapper: 'w', files: [config] })).toBeUndefined();
});

test.each([
  ['Match exec (a command decides)', 'Match host lb1 exec "true"\n  User x\n'],
  ['CanonicalizeHostname (DNS decides)', 'CanonicalizeHostname yes\n'],
  [
    'CanonicalizeHostname in a block, with Match final',
    'Host lb*\n  CanonicalizeHostname always\nMatch final all\n  User x\n',
  ],
  ['an Include hactl cannot follow exactly', `Include ${'/tmp'}/[ab].conf\n`],
])('never kept: %s', async (_what, text) => {
  writeFileSync(config, text);
  expect(await sshGFingerprint({ ssh, wrapper: 'w', files: [config] })).toBeUndefined();
  await run(['lb1']);
  await run(['lb1']);
  expect(runs()).toEqual(['lb1', 'lb1']);
});

test('Match on host and user, and a final pass (as Fedora and RHEL ship), is kept: the fingerprint covers it', async () => {
  writeFileSync(config, 'Match host lb1 user root\n  Port 2022\nMatch final all\n  User u\n');
  expect(await sshGFingerprint({ ssh, wrapper: 'w', files: [config] })).toMatch(/^[0-9a-f]{64}$/);
  const [first] = await run(['lb1'], { user: 'root' });
  expect(first.port).toBe(2022);
  expect((await run(['lb1'], { user: 'root' }))[0]).toEqual(first);
  expect(runs()).toEqual(['lb1']);
});

test('a corrupt cache file is ignored; no cache file (HACTL_CACHE_DIR=) keeps nothing', async () => {
  writeFileSync(config, 'Host lb1\n  User alice\n');
  mkdirSync(join(dir, 'cache'));
  writeFileSync(store, '{"format":1,"fingerprint":');
  expect((await run(['lb1']))[0].user).toBe('alice');
  expect(cacheFile({ HACTL_CACHE_DIR: '', HOME: '/h' }, 'linux', 'ssh-g.json')).toBeUndefined();
  expect(cacheFile({ HOME: '/h' }, 'linux', 'ssh-g.json')).toBe('/h/.cache/hactl/ssh-g.json');
  const none = new SshGCache(undefined);
  const lookup = openSshLookup({ ssh, configPath: config, cache: none });
  await lookup('lb1');
  none.save();
  expect(runs()).toEqual(['lb1', 'lb1']);
});
