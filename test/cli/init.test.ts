/**
 * hactl init in-process: the command with flags (no terminal), the wizard driven by scripted
 * answers, and discovery against recorded fake hosts. Every written file is loaded back with
 * the validate loader.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Init from '../../commands/init.js';
import { discoverer, type Discoverer } from '../../src/init/discover.js';
import { runInit, type InitOptions } from '../../src/init/init.js';
import { ACCEPT, scriptedPrompter } from '../../src/cli/prompter.js';
import { loadInventoryFile } from '../../src/inventory/load.js';
import { FakeTransport, ok } from '../helpers/fake-transport.js';
import { TransportError } from '../../src/transport/transport.js';
import { ROOT } from '../helpers/inventory.js';
import { runCommand } from '../helpers/cli.js';

const ENV = { HACTL_VRRP_PASS: 'pw123456' };
let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'hactl-init-cli-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const valid = (file: string) => {
  const r = loadInventoryFile(file, { env: ENV, requireSecrets: true });
  if (!r.inventory) throw new Error(`${file} is not valid:\n${JSON.stringify(r.problems, null, 2)}`);
  expect(r.problems).toEqual([]);
  return r.inventory;
};

/** Runs the oclif command in-process without a terminal; returns its exit code and output. */
const cli = (argv: string[]) => runCommand(Init, argv);

const FLAGS = [
  '--no-discover',
  '--lb',
  'kl1=192.168.10.20',
  '--lb',
  'kl2=192.168.10.30',
  '--interface',
  'eth0',
  '--vip',
  '192.168.10.60/24',
  '--backend',
  '192.168.10.10',
  '--backend',
  'web02=192.168.10.11:8080',
  '--server-name',
  'www.example.com',
];

describe('hactl init without a terminal', () => {
  test('flags alone write a valid inventory and print the next command', async () => {
    const file = join(dir, 'inv.yaml');
    const r = await cli([...FLAGS, '--output', file]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const inv = valid(file);
    const c = inv.clusters[0];
    expect(c.lbs.map((l) => `${l.name}@${l.address}/${l.interface}`)).toEqual([
      'kl1@192.168.10.20/eth0',
      'kl2@192.168.10.30/eth0',
    ]);
    expect(c.vips.map((v) => [v.cidr, v.vrid, v.master])).toEqual([['192.168.10.60/24', 51, 'kl1']]);
    expect(c.backends.map((b) => `${b.name}=${b.address}:${b.port}`)).toEqual([
      'web1=192.168.10.10:80',
      'web02=192.168.10.11:8080',
    ]);
    expect(r.stdout).toContain(`hactl deploy -i ${file} --dry-run`);
    if (process.env.HACTL_VRRP_PASS === undefined) expect(r.stdout).toMatch(/Next:\n {2}export HACTL_VRRP_PASS=/);
  });

  test('dual-master with explicit VRIDs and priorities', async () => {
    const file = join(dir, 'dm.yaml');
    const r = await cli([
      ...FLAGS,
      '--output',
      file,
      '--mode',
      'dual-master',
      '--vip',
      '192.168.10.80/24',
      '--vrid',
      '31',
      '--vrid',
      '32',
      '--priorities',
      'kl1=200,kl2=100',
      '--priorities',
      'kl1=100,kl2=200',
      '--cluster',
      'kl',
      '--user',
      'deploy',
      '--host-key-policy',
      'strict',
    ]);
    expect(r.code).toBe(0);
    const c = valid(file).clusters[0];
    expect(c.name).toBe('kl');
    expect(c.vips.map((v) => [v.name, v.vrid, v.master, v.nodes.map((n) => n.priority)])).toEqual([
      ['vip1', 31, 'kl1', [200, 100]],
      ['vip2', 32, 'kl2', [100, 200]],
    ]);
    expect(c.lbs[0].ssh).toMatchObject({ user: 'deploy', host_key_policy: 'strict' });
  });

  test('an existing file without --force: exit 2, left untouched; with --force it is replaced', async () => {
    const file = join(dir, 'inventory.yaml');
    writeFileSync(file, 'precious: true\n');
    const r = await cli([...FLAGS, '--output', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/already exists and was left untouched: pass --force/);
    expect(readFileSync(file, 'utf8')).toBe('precious: true\n');
    const forced = await cli([...FLAGS, '--output', file, '--force']);
    expect(forced.code).toBe(0);
    valid(file);
  });

  test('missing answers: exit 2 at once, naming every missing flag; nothing written', async () => {
    const file = join(dir, 'missing.yaml');
    const r = await cli(['--output', file, '--lb', 'a=10.0.0.1', '--lb', 'b=10.0.0.2', '--no-discover']);
    expect(r.code).toBe(2);
    for (const flag of ['--interface', '--vip', '--backend', '--server-name']) expect(r.stderr).toContain(flag);
    expect(r.stderr).not.toContain('--lb');
    expect(existsSync(file)).toBe(false);
    const none = await cli(['--output', file]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('--lb NAME=ADDRESS (at least two)');
  });

  test('an invalid flag value is a usage error that names the flag', async () => {
    const r = await cli([...FLAGS, '--output', join(dir, 'x.yaml'), '--backend', 'web1=10.0.0.5:99999']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--backend: port 99999/);
  });

  test("answers that fail validation are refused with the loader's problems; nothing is written", async () => {
    const file = join(dir, 'bad.yaml');
    const r = await cli([...FLAGS.map((f) => (f === '192.168.10.60/24' ? '10.9.9.9/24' : f)), '--output', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/vip-subnet|not in the subnet/);
    expect(existsSync(file)).toBe(false);
  });
});

// ---------------------------------------------------------------- discovery with fake hosts

const ipj = (iface: string, ips: [string, number][]) =>
  JSON.stringify([
    {
      ifname: 'lo',
      flags: ['LOOPBACK', 'UP'],
      addr_info: [{ family: 'inet', local: '127.0.0.1', prefixlen: 8, scope: 'host' }],
    },
    {
      ifname: iface,
      flags: ['BROADCAST', 'MULTICAST', 'UP', 'LOWER_UP'],
      addr_info: ips.map(([local, prefixlen]) => ({ family: 'inet', local, prefixlen, scope: 'global' })),
    },
  ]);

function fakeHosts(extra: Record<string, string> = {}): { discover: Discoverer; hosts: Map<string, FakeTransport> } {
  const out: Record<string, string> = {
    lb1: [
      '@@addrs4',
      ipj('ens3', [['10.1.2.11', 24]]),
      '@@neigh',
      JSON.stringify([{ dst: '10.1.2.249', dev: 'ens3', state: ['REACHABLE'] }]),
      '@@conf-vrids',
      '@@adverts',
      'method python3 3',
      'vrrp ens3 10.1.2.5 51 100 10.1.2.248',
      'rc 0',
      '@@end',
    ].join('\n'),
    lb2: [
      '@@addrs4',
      ipj('ens3', [['10.1.2.12', 24]]),
      '@@neigh',
      '[]',
      '@@conf-vrids',
      '  virtual_router_id 52',
      '@@adverts',
      'method python3 3',
      'rc 0',
      '@@end',
    ].join('\n'),
    ...extra,
  };
  const hosts = new Map<string, FakeTransport>();
  const discover = discoverer({
    connect: async (lb) => {
      if (!(lb.name in out)) throw new TransportError(lb.name, 'connect', `${lb.address}:22: connection refused`);
      const t = new FakeTransport(lb.name).on(/echo @@addrs4/, ok(out[lb.name]));
      hosts.set(lb.name, t);
      return t;
    },
  });
  return { discover, hosts };
}

const NOFLAGS: InitOptions = { output: '' };

describe('discovery feeds the proposals', () => {
  test('non-interactive: interface, a free VIP and an unseen VRID are proposed and written', async () => {
    const { discover, hosts } = fakeHosts();
    const log: string[] = [];
    const file = join(dir, 'disc.yaml');
    const r = await runInit(
      {
        ...NOFLAGS,
        output: file,
        lbs: ['lb1=10.1.2.11', 'lb2=10.1.2.12'],
        backends: ['10.1.2.201'],
        serverNames: ['www.example.com'],
      },
      { discover, log: (l) => log.push(l), env: ENV },
    );
    const c = valid(file).clusters[0];
    expect(c.interface).toBe('ens3');
    // .249 answers ARP and .248 is in another instance's advert: both taken.
    expect(c.vips.map((v) => [v.cidr, v.vrid])).toEqual([['10.1.2.247/24', 53]]);
    expect(log.join('\n')).toMatch(/lb1: ens3 10.1.2.11\/24; VRIDs seen: 51 \(listened 3s with python3\)/);
    expect(log.join('\n')).toMatch(/lb2: ens3 10.1.2.12\/24; VRIDs seen: 52/);
    expect(r.next).toEqual([`hactl deploy -i ${file} --dry-run`]);
    // One round trip per host, run as root (listening needs it), connections closed.
    for (const t of hosts.values()) {
      expect(t.calls.map((x) => x.root)).toEqual([true]);
      expect(t.closed).toBe(true);
    }
  });

  test('sudo refused: discovery retries without root and still reads the addresses', async () => {
    const file = join(dir, 'sudo.yaml');
    const sudoHosts = discoverer({
      connect: async (lb) =>
        new FakeTransport(lb.name)
          .on((s) => s.includes('echo @@addrs4'), new TransportError(lb.name, 'sudo', 'sudo refused'), 1)
          .on(
            /echo @@addrs4/,
            ok(
              [
                '@@addrs4',
                ipj('eth0', [[lb.address, 24]]),
                '@@neigh',
                '@@conf-vrids',
                '@@adverts',
                'method python3 3',
                'rc 1',
                '@@end',
              ].join('\n'),
            ),
          ),
    });
    const log: string[] = [];
    await runInit(
      { output: file, lbs: ['a=10.0.0.1', 'b=10.0.0.2'], backends: ['10.0.0.10'], serverNames: ['x.example'] },
      { discover: sudoHosts, log: (l) => log.push(l), env: ENV },
    );
    expect(valid(file).clusters[0].interface).toBe('eth0');
    expect(log.join('\n')).toMatch(/could not listen 3s with python3/);
    expect(log.join('\n')).toMatch(/root needed/);
  });

  test('an unreachable host is reported; without a terminal the missing answers are then flags', async () => {
    const { discover } = fakeHosts();
    const log: string[] = [];
    const p = runInit(
      {
        output: join(dir, 'u.yaml'),
        lbs: ['lb1=10.1.2.11', 'lb9=10.1.2.19'],
        backends: ['10.1.2.201'],
        serverNames: ['www.example.com'],
        vrrpPassEnv: '',
      },
      { discover, log: (l) => log.push(l), env: ENV },
    );
    // lb1 answered: its facts still give the interface and a VIP.
    await expect(p).resolves.toBeDefined();
    expect(log.join('\n')).toMatch(/lb9: not discovered \(lb9: 10.1.2.19:22: connection refused\)/);

    const none = runInit(
      {
        output: join(dir, 'v.yaml'),
        lbs: ['x=10.1.2.30', 'y=10.1.2.31'],
        backends: ['10.1.2.201'],
        serverNames: ['www.example.com'],
      },
      { discover, log: () => undefined, env: ENV },
    );
    await expect(none).rejects.toThrow(
      /--interface NAME \(discovery could not propose one\)\n {2}--vip ADDRESS\/PREFIX/,
    );
  });
});

// ---------------------------------------------------------------- the wizard, scripted

describe('the wizard with scripted answers', () => {
  test('accepting every proposal gives the discovered interface, VIPs and VRIDs (dual-master)', async () => {
    const { discover } = fakeHosts();
    const file = join(dir, 'wiz.yaml');
    const prompter = scriptedPrompter({
      cluster: 'shop',
      lbs: 'lb1=10.1.2.11 lb2=10.1.2.12',
      user: ACCEPT,
      identityFile: '~/.ssh/id_ed25519',
      knownHosts: ACCEPT,
      hostKeyPolicy: 'strict',
      mode: 'dual-master',
      interface: ACCEPT,
      'vip1.address': ACCEPT,
      'vip1.vrid': ACCEPT,
      'vip1.priorities': ACCEPT,
      'vip2.address': ACCEPT,
      'vip2.vrid': ACCEPT,
      'vip2.priorities': ACCEPT,
      backends: 'web1=10.1.2.201 web2=10.1.2.202:8080',
      serverNames: 'shop.example.com www.shop.example.com',
      healthPath: '/health',
      vrrpPassEnv: ACCEPT,
    });
    const r = await runInit({ output: file }, { prompter, discover, log: () => undefined, env: ENV });
    const asked = Object.fromEntries(prompter.asked.map((q) => [q.id, q.default]));
    expect(asked).toMatchObject({
      interface: 'ens3',
      'vip1.address': '10.1.2.247/24',
      'vip2.address': '10.1.2.246/24',
      'vip1.vrid': '53',
      'vip2.vrid': '54',
      'vip1.priorities': 'lb1=150,lb2=100',
      'vip2.priorities': 'lb2=150,lb1=100',
    });
    expect(prompter.asked.find((q) => q.id === 'vip1.vrid')!.message).toMatch(/seen on the segment: 51, 52/);
    const c = valid(file).clusters[0];
    expect(c.name).toBe('shop');
    expect(c.vips.map((v) => [v.cidr, v.vrid, v.master])).toEqual([
      ['10.1.2.247/24', 53, 'lb1'],
      ['10.1.2.246/24', 54, 'lb2'],
    ]);
    expect(c.sites[0]).toMatchObject({
      name: 'shop',
      serverNames: ['shop.example.com', 'www.shop.example.com'],
      healthPath: '/health',
    });
    expect(c.lbs[0].ssh).toMatchObject({ identity_file: '~/.ssh/id_ed25519', host_key_policy: 'strict' });
    expect(r.text).toContain('# Dual-master');
  });

  test('changing proposals: another VIP, VRID and priorities; flags are not asked again', async () => {
    const { discover } = fakeHosts();
    const file = join(dir, 'wiz2.yaml');
    const prompter = scriptedPrompter({
      cluster: ACCEPT,
      user: ACCEPT,
      identityFile: ACCEPT,
      knownHosts: ACCEPT,
      hostKeyPolicy: ACCEPT,
      mode: ACCEPT,
      interface: ACCEPT,
      'vip1.address': '10.1.2.100/24',
      'vip1.vrid': '77',
      'vip1.priorities': 'lb1=100,lb2=200',
      healthPath: ACCEPT,
      vrrpPassEnv: '',
    });
    await runInit(
      {
        output: file,
        lbs: ['lb1=10.1.2.11', 'lb2=10.1.2.12'],
        backends: ['10.1.2.201'],
        serverNames: ['www.example.com'],
      },
      { prompter, discover, log: () => undefined, env: ENV },
    );
    expect(prompter.asked.map((q) => q.id)).not.toContain('lbs');
    const c = valid(file).clusters[0];
    // The highest priority is the master.
    expect(c.vips.map((v) => [v.cidr, v.vrid, v.master, v.auth])).toEqual([['10.1.2.100/24', 77, 'lb2', undefined]]);
  });

  test("the wizard refuses a VIP outside the load balancers' subnet (the prompt re-asks)", async () => {
    const { discover } = fakeHosts();
    const prompter = scriptedPrompter({
      cluster: ACCEPT,
      user: ACCEPT,
      identityFile: ACCEPT,
      knownHosts: ACCEPT,
      hostKeyPolicy: ACCEPT,
      mode: ACCEPT,
      interface: ACCEPT,
      'vip1.address': '192.168.99.5/24',
    });
    await expect(
      runInit(
        { output: join(dir, 'w3.yaml'), lbs: ['lb1=10.1.2.11', 'lb2=10.1.2.12'] },
        { prompter, discover, log: () => undefined, env: ENV },
      ),
    ).rejects.toThrow(/192.168.99.5 is not in the load balancers' subnet 10.1.2.11\/24/);
  });

  test('an existing file: the wizard asks first; no leaves it untouched, yes replaces it', async () => {
    const file = join(dir, 'exists.yaml');
    writeFileSync(file, 'keep me\n');
    const no = scriptedPrompter({ overwrite: false });
    await expect(
      runInit({ output: file }, { prompter: no, discover: fakeHosts().discover, log: () => undefined }),
    ).rejects.toMatchObject({ exitCode: 1, message: expect.stringMatching(/left untouched/) });
    expect(no.asked.map((q) => [q.id, q.default])).toEqual([['overwrite', false]]);
    expect(readFileSync(file, 'utf8')).toBe('keep me\n');

    const yes = scriptedPrompter({ overwrite: true });
    await runInit(
      {
        output: file,
        discover: false,
        lbs: ['a=10.0.0.1', 'b=10.0.0.2'],
        interface: 'eth0',
        vips: ['10.0.0.60/24'],
        backends: ['10.0.0.10'],
        serverNames: ['a.example'],
        cluster: 'c',
        user: 'root',
        identityFile: '',
        knownHosts: '',
        hostKeyPolicy: 'accept-new',
        mode: 'active-passive',
        vrids: [9],
        priorities: ['a=150,b=100'],
        healthPath: '/',
        vrrpPassEnv: 'HACTL_VRRP_PASS',
      },
      { prompter: yes, discover: fakeHosts().discover, log: () => undefined, env: ENV },
    );
    expect(yes.asked.map((q) => q.id)).toEqual(['overwrite']);
    expect(valid(file).clusters[0].vips[0].vrid).toBe(9);
  });
});

// ---------------------------------------------------------------- a real terminal

/**
 * The built CLI under a pseudo-terminal (util-linux `script`), so the real inquirer prompts are
 * driven: each answer is typed once its question appears. Uses dist/ (npm test builds first).
 */
function inPty(
  args: string[],
  answers: [RegExp, string][],
  timeoutMs = 30_000,
): Promise<{ code: number | null; screen: string; answered: number }> {
  const bundle = join(ROOT, 'dist', 'cli', 'commands', 'init.js'); // what bin/run.js runs
  const stale = [
    join(ROOT, 'commands', 'init.ts'),
    ...['init', 'answers'].map((f) => join(ROOT, 'src', 'init', `${f}.ts`)),
    join(ROOT, 'src', 'cli', 'prompter.ts'),
  ].some((src) => !existsSync(bundle) || statSync(src).mtimeMs > statSync(bundle).mtimeMs);
  if (stale) throw new Error('dist/ is older than the init sources: run npm run build first');
  const quoted = [process.execPath, join(ROOT, 'bin', 'run.js'), ...args]
    .map((a) => `'${a.replace(/'/g, `'\\''`)}'`)
    .join(' ');
  return new Promise((resolve, reject) => {
    const p = spawn('script', ['-qfec', quoted, '/dev/null'], {
      cwd: dir,
      detached: true,
      env: { ...process.env, ...ENV, TERM: 'dumb', COLUMNS: '200' },
    });
    // eslint-disable-next-line no-control-regex -- strips the terminal's escape sequences
    const plain = (s: string) => s.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '');
    let out = '';
    let from = 0;
    let i = 0;
    const timer = setTimeout(() => {
      if (p.pid) process.kill(-p.pid, 'SIGKILL'); // script and the CLI under it
      reject(new Error(`no exit after ${timeoutMs} ms; ${i} answered; screen:\n${plain(out).slice(-2000)}`));
    }, timeoutMs);
    p.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (i < answers.length && answers[i][0].test(plain(out.slice(from)))) {
        from = out.length;
        p.stdin.write(answers[i++][1]);
      }
    });
    p.on('error', reject);
    p.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, screen: plain(out), answered: i });
    });
  });
}

describe('hactl init in a pseudo-terminal (real prompts)', () => {
  test('the wizard asks what the flags left open, accepts Enter for proposals, and writes a valid file', async () => {
    const file = join(dir, 'pty.yaml');
    const r = await inPty(
      [
        'init',
        '--no-discover',
        '--output',
        file,
        '--lb',
        'a=10.0.0.1',
        '--lb',
        'b=10.0.0.2',
        '--backend',
        '10.0.0.10',
        '--server-name',
        'www.example.com',
      ],
      [
        [/Cluster name/, 'shop\r'],
        [/SSH user/, '\r'],
        [/SSH private key/, '\r'],
        [/known_hosts file/, '\r'],
        [/Unknown host keys/, '\r'],
        [/Mode/, '\r'],
        [/VRRP interface/, 'eth0\r'],
        [/vip1: address/, '10.0.0.60/24\r'],
        [/vip1: VRID/, '\r'],
        [/vip1: priorities/, '\r'],
        [/Health check path/, '/health\r'],
        [/Environment variable holding the VRRP password/, '\r'],
      ],
    );
    expect({ code: r.code, answered: r.answered }).toEqual({ code: 0, answered: 12 });
    expect(r.screen).toContain(`hactl deploy -i ${file} --dry-run`);
    const c = valid(file).clusters[0];
    expect([c.name, c.interface, c.vips[0].cidr, c.vips[0].vrid, c.sites[0].healthPath]).toEqual([
      'shop',
      'eth0',
      '10.0.0.60/24',
      51,
      '/health',
    ]);
  }, 40_000);

  test('an existing file: the terminal asks, "n" leaves it untouched and exits 1 (the operator said no)', async () => {
    const file = join(dir, 'exists.yaml');
    writeFileSync(file, 'mine\n');
    const r = await inPty(['init', '--output', file], [[/already exists\. Overwrite it\?/, 'n\r']]);
    expect(r.code).toBe(1);
    expect(r.screen).toMatch(/left untouched/);
    expect(readFileSync(file, 'utf8')).toBe('mine\n');
  }, 40_000);
});
