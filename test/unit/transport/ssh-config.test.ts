import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  expandHome,
  loadSshConfig,
  lookupSshConfig,
  parseJumpHost,
  parseSshConfig,
  resolveTarget,
} from '../../../src/transport/ssh-config.js';

const HOME = '/home/op';
const env = { home: HOME, localUser: 'op' };
const parse = (text: string) => parseSshConfig(text, 'config', { home: HOME });

describe('ssh config parsing', () => {
  const config = parse(`
# global comment
Host lb1 lb2
  HostName 10.0.0.%h
  User deploy
  Port 2201
  IdentityFile ~/.ssh/lb_key

Host *.prod !bastion.prod
    user=produser
    IdentityFile "/keys/with space"
    ProxyJump bastion.prod:2200

Host lb1
  User ignored-second-value
  IdentityFile ~/.ssh/second

Match host lb2
  User from-match

Host *
  User fallback
  Port 22
  IdentityFile ~/.ssh/id_%r@%h-%p
`);

  test('first obtained value wins; IdentityFile accumulates', () => {
    expect(lookupSshConfig(config, 'lb1')).toEqual({
      hostName: '10.0.0.%h',
      user: 'deploy',
      port: 2201,
      identityFiles: ['~/.ssh/lb_key', '~/.ssh/second', '~/.ssh/id_%r@%h-%p'],
    });
  });

  test('several patterns, wildcards, negation, key=value and quoted values', () => {
    expect(lookupSshConfig(config, 'web.prod')).toEqual({
      user: 'produser',
      port: 22,
      identityFiles: ['/keys/with space', '~/.ssh/id_%r@%h-%p'],
      proxyJump: 'bastion.prod:2200',
    });
    expect(lookupSshConfig(config, 'bastion.prod').proxyJump).toBeUndefined();
    expect(lookupSshConfig(config, 'bastion.prod').user).toBe('fallback');
  });

  test('Match blocks are not evaluated', () => {
    expect(lookupSshConfig(config, 'lb2').user).toBe('deploy');
  });

  test('options before any Host apply to every host; keys are case-insensitive', () => {
    const c = parse('USER early\nHost x\n  User late\n');
    expect(lookupSshConfig(c, 'x').user).toBe('early');
  });

  test('a bad Port is an error naming file:line', () => {
    expect(() => lookupSshConfig(parse('Host x\n Port abc\n'), 'x')).toThrow('config:2: bad Port abc');
  });

  describe('Include', () => {
    let dir: string;
    beforeAll(() => {
      dir = mkdtempSync(join(tmpdir(), 'hactl-sshcfg-'));
      mkdirSync(join(dir, '.ssh', 'config.d'), { recursive: true });
      writeFileSync(join(dir, '.ssh', 'config.d', '10-lab'), 'Host lab*\n  User labuser\n');
      writeFileSync(join(dir, '.ssh', 'config.d', '20-other'), 'Port 2022\n');
      writeFileSync(join(dir, '.ssh', 'config'), 'Include config.d/*\nHost *\n  User default\n');
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    test('relative globs under ~/.ssh, in order, with their own Host blocks', () => {
      const c = loadSshConfig(undefined, { home: dir });
      expect(lookupSshConfig(c, 'lab1')).toMatchObject({ user: 'labuser', port: 2022 });
      expect(lookupSshConfig(c, 'elsewhere')).toMatchObject({ user: 'default' });
    });

    test('a missing config file is empty', () => {
      expect(loadSshConfig(join(dir, 'missing'))).toEqual({ options: [] });
    });
  });
});

describe('jump host parsing', () => {
  test.each([
    ['bastion', { host: 'bastion' }],
    ['ops@bastion', { user: 'ops', host: 'bastion' }],
    ['ops@bastion:2222', { user: 'ops', host: 'bastion', port: 2222 }],
    ['10.0.0.1:22', { host: '10.0.0.1', port: 22 }],
    ['[2001:db8::1]:2222', { host: '2001:db8::1', port: 2222 }],
    ['ops@[2001:db8::1]', { user: 'ops', host: '2001:db8::1' }],
    ['2001:db8::1', { host: '2001:db8::1' }],
    ['ssh://ops@bastion:2200', { user: 'ops', host: 'bastion', port: 2200 }],
  ])('%s', (spec, expected) => {
    expect(parseJumpHost(spec)).toEqual(expected);
  });

  test.each(['a,b', 'bastion:0', 'bastion:99999', 'bastion:x', '@bastion', ''])('rejects %p', (spec) => {
    expect(() => parseJumpHost(spec)).toThrow(/jump host/);
  });
});

describe('resolveTarget', () => {
  const config = parse(`
Host lb1
  HostName 192.168.1.11
  User cfguser
  Port 2201
  IdentityFile ~/.ssh/lb_%r_%p
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
Host *
  ProxyJump should-not-apply-to-nojump
`);

  test('defaults when neither inventory nor config say anything', () => {
    expect(resolveTarget({ name: 'x', address: '10.9.9.9' }, { options: [] }, env)).toEqual({
      name: 'x',
      host: '10.9.9.9',
      port: 22,
      user: 'root',
      useAgent: true,
      knownHosts: `${HOME}/.ssh/known_hosts`,
      hostKeyPolicy: 'accept-new',
      sudo: false,
      connectTimeoutMs: 10000,
    });
  });

  test('~/.ssh/config fills what the inventory leaves out, with tokens expanded', () => {
    const t = resolveTarget({ name: 'lb1', address: 'lb1' }, config, env);
    expect(t).toMatchObject({
      host: '192.168.1.11',
      port: 2201,
      user: 'cfguser',
      sudo: true,
      identityFile: `${HOME}/.ssh/lb_cfguser_2201`,
    });
    expect(t.jump).toEqual({
      name: 'cfgjump (jump host for lb1)',
      host: '203.0.113.5',
      port: 2022,
      user: 'jumper',
      identityFile: `${HOME}/.ssh/jump_key`,
      useAgent: true,
      knownHosts: `${HOME}/.ssh/known_hosts`,
      hostKeyPolicy: 'accept-new',
      connectTimeoutMs: 10000,
      sudo: false,
    });
  });

  test('inventory values win over ~/.ssh/config', () => {
    const t = resolveTarget(
      {
        name: 'lb1',
        address: 'lb1',
        ssh: {
          user: 'root',
          port: 22,
          identity_file: '~/keys/inv',
          use_agent: false,
          known_hosts: '~/kh',
          host_key_policy: 'strict',
          jump_host: 'ops@bastion:2200',
          connect_timeout: 2.5,
        },
      },
      config,
      env,
    );
    expect(t).toMatchObject({
      host: '192.168.1.11', // HostName still applies to the alias
      port: 22,
      user: 'root',
      sudo: false,
      identityFile: `${HOME}/keys/inv`,
      useAgent: false,
      knownHosts: `${HOME}/kh`,
      hostKeyPolicy: 'strict',
      connectTimeoutMs: 2500,
    });
    expect(t.jump).toMatchObject({
      host: 'bastion',
      port: 2200,
      user: 'ops',
      identityFile: `${HOME}/keys/inv`,
      hostKeyPolicy: 'strict',
    });
  });

  test('sudo follows the user unless set; an explicit sudo wins', () => {
    expect(resolveTarget({ name: 'x', address: 'x', ssh: { user: 'deploy' } }, { options: [] }, env).sudo).toBe(true);
    expect(
      resolveTarget({ name: 'x', address: 'x', ssh: { user: 'deploy', sudo: false } }, { options: [] }, env).sudo,
    ).toBe(false);
    expect(resolveTarget({ name: 'x', address: 'x', ssh: { sudo: true } }, { options: [] }, env).sudo).toBe(true);
  });

  test('ProxyJump none disables a later wildcard ProxyJump; jump user defaults to the target user', () => {
    expect(resolveTarget({ name: 'n', address: 'nojump' }, config, env).jump).toBeUndefined();
    const t = resolveTarget({ name: 'o', address: 'other', ssh: { user: 'deploy' } }, config, env);
    expect(t.jump).toMatchObject({ host: 'should-not-apply-to-nojump', user: 'deploy', port: 22 });
  });

  test('unsupported IdentityFile tokens are refused, not guessed', () => {
    expect(() => resolveTarget({ name: 'odd', address: 'odd' }, config, env)).toThrow(/token %C is not supported/);
  });

  test('expandHome', () => {
    expect(expandHome('~', HOME)).toBe(HOME);
    expect(expandHome('~/a', HOME)).toBe(`${HOME}/a`);
    expect(expandHome('/abs/~/a', HOME)).toBe('/abs/~/a');
    expect(expandHome('~other/a', HOME)).toBe('~other/a');
  });
});
