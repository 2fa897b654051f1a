import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  expandHome,
  loadSshConfig,
  lookupSshConfig,
  parseJumpHost,
  parseSshConfig,
  splitJumpChain,
} from '../../../src/transport/ssh-config.js';

const HOME = '/home/op';
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
    expect(lookupSshConfig(config, 'lb1')).toMatchObject({
      hostName: '10.0.0.lb1',
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
      identitiesOnly: false,
      proxyJump: 'bastion.prod:2200',
      ignored: ['Match (config:18, not evaluated)'],
    });
    expect(lookupSshConfig(config, 'bastion.prod').proxyJump).toBeUndefined();
    expect(lookupSshConfig(config, 'bastion.prod').user).toBe('fallback');
  });

  test('Match blocks are not evaluated, and said so', () => {
    expect(lookupSshConfig(config, 'lb2').user).toBe('deploy');
    expect(lookupSshConfig(config, 'lb2').ignored).toEqual(['Match (config:18, not evaluated)']);
  });

  test('keywords hactl does not use are reported where they apply, once, as written', () => {
    const c = parse(
      'Host lb*\n  ControlMaster auto\n  ServerAliveInterval 5\nHost lb1\n  controlmaster no\nHost other\n  Compression yes\n',
    );
    expect(lookupSshConfig(c, 'lb1').ignored).toEqual(['ControlMaster', 'ServerAliveInterval']);
    expect(lookupSshConfig(c, 'web').ignored).toEqual([]);
  });

  test('ProxyCommand and ProxyJump exclude each other, first one wins; none disables; -J wins over both', () => {
    const c = parse('Host a\n  ProxyCommand nc %h %p\nHost *\n  ProxyJump j\nHost n\n  ProxyCommand none\n');
    expect(lookupSshConfig(c, 'a')).toMatchObject({ proxyCommand: 'nc %h %p' });
    expect(lookupSshConfig(c, 'a').proxyJump).toBeUndefined();
    expect(lookupSshConfig(c, 'b')).toMatchObject({ proxyJump: 'j' });
    expect(lookupSshConfig(c, 'a', { jump: 'k' })).toMatchObject({ proxyJump: 'k' });
    expect(lookupSshConfig(c, 'a', { jump: 'k' }).proxyCommand).toBeUndefined();
  });

  test('-l and -p win over the config; IdentitiesOnly and IdentityAgent are read', () => {
    const c = parse('Host x\n  User u\n  Port 2\n  IdentitiesOnly yes\n  IdentityAgent ~/agent.sock\n');
    expect(lookupSshConfig(c, 'x', { user: 'v', port: 3 })).toMatchObject({
      user: 'v',
      port: 3,
      identitiesOnly: true,
      identityAgent: '~/agent.sock',
    });
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
      expect(loadSshConfig(join(dir, 'missing'))).toEqual({ options: [], matchBlocks: [] });
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

  test('a chain: the last hop is next to the target, the rest reach it', () => {
    expect(splitJumpChain('a,ops@b:2200,c')).toEqual({ hop: { host: 'c' }, rest: 'a,ops@b:2200' });
    expect(splitJumpChain('ops@b')).toEqual({ hop: { user: 'ops', host: 'b' } });
    expect(() => splitJumpChain('a,,c')).toThrow(/empty hop/);
  });
});

test('expandHome', () => {
  expect(expandHome('~', HOME)).toBe(HOME);
  expect(expandHome('~/a', HOME)).toBe(`${HOME}/a`);
  expect(expandHome('/abs/~/a', HOME)).toBe('/abs/~/a');
  expect(expandHome('~other/a', HOME)).toBe('~other/a');
});
