/**
 * Inventory ssh settings + ~/.ssh/config → one SshTarget, with the config read by the real
 * OpenSSH client (`ssh -G -F file`, configs written to temp files) and by hactl's own reader
 * (used without an OpenSSH client): where the reader can follow the config, both must agree.
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemLookup, targetResolver } from '../../../src/run/connector.js';
import { openSshLookup, parseSshG, wrapperConfig } from '../../../src/transport/openssh-config.js';
import { resolveTarget, type ResolveInput } from '../../../src/transport/resolve-target.js';
import { builtinLookup, type HostLookup } from '../../../src/transport/ssh-config.js';
import { TransportError } from '../../../src/transport/transport.js';

const HOME = '/home/op';
const env = {
  home: HOME,
  localUser: 'op',
  localHost: 'laptop.example.org',
  uid: 1000,
  env: { SSH_AUTH_SOCK: '/run/a' },
};

// Made at load: describe.each below builds its lookups before any hook runs.
const dir = mkdtempSync(join(tmpdir(), 'hactl-ssh-g-'));
const closers: (() => void)[] = [];
afterAll(() => {
  for (const c of closers) c();
  rmSync(dir, { recursive: true, force: true });
});

let n = 0;
function configFile(text: string): string {
  const file = join(dir, `config${++n}`);
  writeFileSync(file, text);
  return file;
}

/** The same file read both ways. */
function lookups(text: string): [string, HostLookup][] {
  const file = configFile(text);
  const g = openSshLookup({ configPath: file });
  closers.push(g.close);
  return [
    ['ssh -G', g],
    ['built-in', builtinLookup(file, { home: HOME })],
  ];
}

const resolve = async (input: ResolveInput, lookup: HostLookup) => (await resolveTarget(input, lookup, env)).target;

const COMMON = `
Host lb1
  HostName 192.168.1.11
  User cfguser
  Port 2201
  IdentityFile ~/.ssh/lb_%r_%p
  IdentityFile /keys/%n-%h-%u-%L
  ProxyJump cfgjump
Host cfgjump
  HostName 203.0.113.5
  User jumper
  Port 2022
  IdentityFile ~/.ssh/jump_key
Host odd
  IdentityFile /keys/%C
Host nojump
  ProxyJump none
Host viacmd
  HostName %h.internal
  ProxyCommand ssh -W %h:%p -l %r bastion
Host chain
  ProxyJump first,ops@second:2200
Host second
  HostName 10.1.0.2
  ProxyJump must-not-apply
Host first
  ProxyCommand nc %h %p
Host quoted
  ProxyCommand sh -c "exec nc %h %p"  # as written, for the shell
Host locked
  IdentitiesOnly yes
  IdentityAgent /run/other-agent
Host noagent
  IdentityAgent none
Host o* n*
  ProxyJump should-not-apply-to-nojump
`;

describe.each(lookups(COMMON))('resolveTarget, config read by %s', (_how, lookup) => {
  test('defaults when neither inventory nor config say anything: root, port 22, ssh default keys in its order', async () => {
    const bare = lookups('')[_how === 'ssh -G' ? 0 : 1][1];
    expect(await resolve({ name: 'x', address: '10.9.9.9' }, bare)).toEqual({
      name: 'x',
      host: '10.9.9.9',
      port: 22,
      user: 'root',
      identityFiles: ['id_rsa', 'id_ecdsa', 'id_ed25519'].map((k) => ({ path: `${HOME}/.ssh/${k}`, required: false })),
      identitiesOnly: false,
      agent: '/run/a',
      knownHosts: `${HOME}/.ssh/known_hosts`,
      hostKeyPolicy: 'accept-new',
      sudo: false,
      connectTimeoutMs: 10000,
    });
  });

  test('~/.ssh/config fills what the inventory leaves out, with tokens expanded; the jump host is its own Host', async () => {
    const t = await resolve({ name: 'lb1', address: 'lb1' }, lookup);
    expect(t).toMatchObject({
      host: '192.168.1.11',
      port: 2201,
      user: 'cfguser',
      sudo: true,
      identityFiles: [
        { path: `${HOME}/.ssh/lb_cfguser_2201`, required: false },
        { path: '/keys/lb1-192.168.1.11-op-laptop', required: false },
      ],
    });
    expect(t.via).toEqual({
      jump: {
        name: 'cfgjump (jump host for lb1)',
        host: '203.0.113.5',
        port: 2022,
        user: 'jumper',
        identityFiles: [{ path: `${HOME}/.ssh/jump_key`, required: false }],
        identitiesOnly: false,
        agent: '/run/a',
        knownHosts: `${HOME}/.ssh/known_hosts`,
        hostKeyPolicy: 'accept-new',
        connectTimeoutMs: 10000,
      },
    });
  });

  test('inventory values win over ~/.ssh/config; the jump host inherits the inventory key', async () => {
    const ssh = {
      user: 'root',
      port: 22,
      identity_file: '~/keys/inv',
      use_agent: false,
      known_hosts: '~/kh',
      host_key_policy: 'strict' as const,
      jump_host: 'ops@bastion:2200',
      connect_timeout: 2.5,
    };
    const t = await resolve({ name: 'lb1', address: 'lb1', ssh }, lookup);
    expect(t).toMatchObject({
      host: '192.168.1.11', // HostName still applies to the alias
      port: 22,
      user: 'root',
      sudo: false,
      identityFiles: [{ path: `${HOME}/keys/inv`, required: true }],
      knownHosts: `${HOME}/kh`,
      hostKeyPolicy: 'strict',
      connectTimeoutMs: 2500,
    });
    expect(t.agent).toBeUndefined();
    expect(t.via).toEqual({
      jump: expect.objectContaining({
        host: 'bastion',
        port: 2200,
        user: 'ops',
        identityFiles: [{ path: `${HOME}/keys/inv`, required: true }],
        hostKeyPolicy: 'strict',
      }),
    });
  });

  test('sudo follows the user unless set; an explicit sudo wins', async () => {
    expect((await resolve({ name: 'x', address: 'x', ssh: { user: 'deploy' } }, lookup)).sudo).toBe(true);
    expect((await resolve({ name: 'x', address: 'x', ssh: { user: 'deploy', sudo: false } }, lookup)).sudo).toBe(false);
    expect((await resolve({ name: 'x', address: 'x', ssh: { sudo: true } }, lookup)).sudo).toBe(true);
  });

  test('ProxyJump none wins over a later wildcard ProxyJump; the jump user defaults to the target user', async () => {
    expect((await resolve({ name: 'n', address: 'nojump' }, lookup)).via).toBeUndefined();
    const t = await resolve({ name: 'o', address: 'other', ssh: { user: 'deploy' } }, lookup);
    expect(t.via).toEqual({
      jump: expect.objectContaining({ host: 'should-not-apply-to-nojump', user: 'deploy', port: 22 }),
    });
  });

  test('ProxyCommand runs with %h %p %r expanded (HostName applied first)', async () => {
    const t = await resolve({ name: 'v', address: 'viacmd', ssh: { user: 'deploy', port: 2222 } }, lookup);
    expect(t.host).toBe('viacmd.internal');
    expect(t.via).toEqual({ command: 'ssh -W viacmd.internal:2222 -l deploy bastion' });
    const q = await resolve({ name: 'q', address: 'quoted' }, lookup);
    expect(q.via).toEqual({ command: 'sh -c "exec nc quoted 22"  # as written, for the shell' });
  });

  test('a ProxyJump chain: the last hop next to the target, reached through the others; only the first follows its own config', async () => {
    const t = await resolve({ name: 'c', address: 'chain' }, lookup);
    const second = t.via && 'jump' in t.via ? t.via.jump : undefined;
    expect(second).toMatchObject({ name: 'second (jump host for c)', host: '10.1.0.2', port: 2200, user: 'ops' });
    const first = second?.via && 'jump' in second.via ? second.via.jump : undefined;
    expect(first).toMatchObject({ name: 'first (jump host for c)', host: 'first', port: 22, user: 'root' });
    expect(first?.via).toEqual({ command: 'nc first 22' });
  });

  test('IdentitiesOnly and IdentityAgent (a path, or none)', async () => {
    expect(await resolve({ name: 'l', address: 'locked' }, lookup)).toMatchObject({
      identitiesOnly: true,
      agent: '/run/other-agent',
    });
    expect((await resolve({ name: 'a', address: 'noagent' }, lookup)).agent).toBeUndefined();
  });

  test('unsupported IdentityFile tokens are refused, not guessed, naming the host', async () => {
    const err = await resolve({ name: 'odd', address: 'odd' }, lookup).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransportError);
    expect(String(err)).toMatch(/odd: .*token %C is not supported/);
  });
});

test.each(lookups('Host a\n  ProxyJump b\nHost b\n  ProxyJump a\n'))(
  'a ProxyJump loop (%s) is refused, not followed forever',
  async (_how, lookup) => {
    await expect(resolve({ name: 'a', address: 'a' }, lookup)).rejects.toThrow(/ProxyJump a loop/);
  },
);

describe('what only ssh -G knows', () => {
  test('Match blocks are evaluated, with the inventory user as -l (Match user) and the host', async () => {
    const [[, g], [, builtin]] = lookups(`
Match user deploy
  IdentityFile /keys/deploy
Match host 10.0.0.*
  Port 2200
Host *
  User fallback
`);
    const t = await resolve({ name: 'x', address: '10.0.0.7', ssh: { user: 'deploy' } }, g);
    expect(t).toMatchObject({ port: 2200, user: 'deploy', identityFiles: [{ path: '/keys/deploy', required: false }] });
    expect((await resolve({ name: 'y', address: '10.0.0.7' }, g)).user).toBe('fallback');
    const { ignored } = await resolveTarget({ name: 'x', address: '10.0.0.7' }, builtin, env);
    expect([...ignored.values()].flat()).toEqual([
      expect.stringMatching(/^Match \(.*config\d+:2, not evaluated\)$/),
      expect.stringMatching(/^Match \(.*config\d+:4, not evaluated\)$/),
    ]);
  });

  test('a config ssh refuses is an error naming the host and what ssh said', async () => {
    const [[, g]] = lookups('Host x\n  NoSuchOption yes\n');
    const err = await resolve({ name: 'lb9', address: 'x' }, g).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TransportError);
    expect(String(err)).toMatch(/lb9: ~\/.ssh\/config: ssh -G x: .*Bad configuration option: nosuchoption/i);
  });

  test('an address that looks like an option stays a host name', async () => {
    const [[, g]] = lookups('');
    await expect(g('-oProxyCommand=touch /tmp/hactl-pwned')).rejects.toThrow(/hostname contains invalid characters/);
  });

  test('the wrapper includes the user config and then the system config, markers last', () => {
    expect(wrapperConfig({ home: '/h' })).toMatch(
      /Include "\/h\/.ssh\/config"\nInclude "\/etc\/ssh\/ssh_config"\nMatch all\n {2}User \S+\n {2}IdentityFile \S+\n$/,
    );
    expect(wrapperConfig({ configPath: '/only/this' })).not.toContain('/etc/ssh/ssh_config');
  });

  test('the wrapper file lives only while ssh -G runs: nothing is left in the temp dir', async () => {
    const mine = openSshLookup({ configPath: configFile('Host x\n  User u\n') });
    const wrappers = () => readdirSync(tmpdir()).filter((f) => f.startsWith('hactl-ssh-'));
    const before = wrappers();
    await Promise.all(['x', 'y', 'z'].map((h) => mine(h)));
    expect(wrappers()).toEqual(before);
  });

  test('parseSshG: ssh default users and keys are not the config values', () => {
    expect(
      parseSshG('user hactl-default-user\nport 22\nidentityfile /hactl-default-identity\nproxycommand none\n'),
    ).toEqual({ port: 22, identityFiles: [], identitiesOnly: false, ignored: [] });
  });
});

describe('without an OpenSSH client', () => {
  test('the built-in reader takes over and the resolver says what it did not take into account', async () => {
    const file = configFile('Host lb*\n  User u\n  ControlMaster auto\nMatch host x\n  Port 1\n');
    const lookup = systemLookup({ ssh: join(dir, 'no-such-ssh'), sshConfigPath: file });
    const warnings: string[] = [];
    const resolveIt = targetResolver({
      ssh: join(dir, 'no-such-ssh'),
      sshConfigPath: file,
      warn: (m) => warnings.push(m),
    });
    expect((await lookup('lb1')).user).toBe('u');
    expect(lookup.builtin).toBe(true);
    await resolveIt({ name: 'lb1', address: 'lb1' });
    await resolveIt({ name: 'lb1', address: 'lb1' });
    expect(warnings).toEqual([
      expect.stringMatching(/^lb1: no OpenSSH client on PATH, .*: ControlMaster, Match \(.*:4, not evaluated\)$/),
    ]);
  });
});
