/**
 * The load balancers reached only as ~/.ssh/config says, through lab backends used as bastions:
 * lb1 by `ProxyCommand ssh -W %h:%p` (this machine's OpenSSH client), lb2 by a two-hop ProxyJump
 * chain. The operator's HOME points at a directory holding that config, so the CLI reads it as
 * it would on a laptop; each load balancer's sshd names the bastion as its client.
 */
import { appendFileSync, chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { loadInventory } from '../../src/inventory/load.js';
import { allLbs } from '../../src/inventory/model.js';
import { sshConnector } from '../../src/run/connector.js';
import { BIN } from './helpers/deploy.js';
import { useLab } from './helpers/lab.js';

const lab = useLab();
let home: string;
let config: string;

beforeAll(() => {
  home = mkdtempSync(join(tmpdir(), 'hactl-e2e-home-'));
  mkdirSync(join(home, '.ssh'), { mode: 0o700 });
  config = join(home, '.ssh', 'config');
  const [lb1, lb2] = lab.lbs();
  const [b1, b2] = lab.backends();
  const { identity, knownHosts } = lab.state.files;
  const ssh = `ssh -F /dev/null -i ${identity} -o IdentitiesOnly=yes -o UserKnownHostsFile=${knownHosts} -o StrictHostKeyChecking=yes -o BatchMode=yes`;
  writeFileSync(
    config,
    [
      `Host ${lb1.ip}`,
      `  ProxyCommand ${ssh} -W %h:%p root@${b1.ip}`,
      `Host ${lb2.ip}`,
      `  ProxyJump root@${b1.ip},root@${b2.ip}`,
      '',
    ].join('\n'),
  );
}, 600_000);

afterAll(() => rmSync(home, { recursive: true, force: true }));

const hactl = (args: string[], env: Record<string, string> = {}) =>
  execa('node', [BIN, ...args], {
    reject: false,
    timeout: 180_000,
    stdin: 'ignore',
    env: { ...process.env, HOME: home, HACTL_CACHE_DIR: join(home, 'cache'), NO_COLOR: '1', SSH_AUTH_SOCK: '', ...env },
  });

test('each load balancer sees its bastion as the client: lb1 through the ProxyCommand, lb2 through the last hop', async () => {
  const { inventory } = loadInventory(lab.state.files.inventory, { requireSecrets: false });
  const connect = sshConnector({ sshConfigPath: config });
  const [b1, b2] = lab.backends();
  const clientOf = async (name: string) => {
    const lb = allLbs(inventory).find((l) => l.lb.name === name)?.lb;
    if (!lb) throw new Error(`no ${name} in the lab inventory`);
    const t = await connect(lb);
    try {
      return (await t.exec('echo $SSH_CONNECTION', { root: false })).stdout.split(' ')[0];
    } finally {
      await t.close();
    }
  };
  expect(await clientOf('lb1')).toBe(b1.ip);
  expect(await clientOf('lb2')).toBe(b2.ip);
});

test('hactl deploy and verify work through them, reading ~/.ssh/config from HOME', async () => {
  const deploy = await hactl(['deploy', '-i', lab.state.files.inventory, '--yes']);
  expect({ code: deploy.exitCode, stderr: deploy.stderr }).toEqual({ code: 0, stderr: expect.any(String) });
  const verify = await hactl(['verify', '-i', lab.state.files.inventory, '--quiet']);
  expect({ code: verify.exitCode, stdout: verify.stdout }).toEqual({ code: 0, stdout: '' });
}, 240_000);

test('the ssh -G answers are kept between runs: the next run asks none, until ~/.ssh/config changes', async () => {
  // An ssh first on PATH that logs each -G and is then the real one (the ProxyCommand's ssh too).
  const bin = join(home, 'bin');
  const log = join(home, 'ssh-g.log');
  mkdirSync(bin);
  writeFileSync(join(bin, 'ssh'), `#!/bin/sh\n[ "$1" = -G ] && echo "$*" >> ${log}\nexec /usr/bin/ssh "$@"\n`);
  chmodSync(join(bin, 'ssh'), 0o755);
  writeFileSync(log, '');
  const env = { PATH: `${bin}:${process.env.PATH}` };
  const asked = () => readFileSync(log, 'utf8').split('\n').filter(Boolean).length;
  const verify = async () => {
    const r = await hactl(['verify', '-i', lab.state.files.inventory, '--quiet'], env);
    expect({ code: r.exitCode, stdout: r.stdout }).toEqual({ code: 0, stdout: '' });
  };
  await verify(); // another ssh binary: asked again
  const first = asked();
  expect(first).toBeGreaterThanOrEqual(2); // both load balancers (and the jump hosts of lb2's chain)
  await verify();
  expect(asked()).toBe(first);
  appendFileSync(config, '# edited\n');
  await verify();
  expect(asked()).toBe(2 * first);
}, 240_000);
