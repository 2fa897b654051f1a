/**
 * The lab itself, as an operator and the later e2e files use it: real sshd per host with
 * strict known_hosts, identifying backends, a sudo user, isolation (no route out, no NAT),
 * the fault helpers, two labs side by side, and teardown that leaves nothing, even for a lab
 * whose owner was killed.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { execa } from 'execa';
import { loadInventory } from '../../src/inventory/load.js';
import { down, downAll, up } from '../../src/lab/lab.js';
import type { LabState } from '../../src/lab/types.js';
import {
  describeLeftovers,
  dropVrrp,
  inHost,
  inNetns,
  isEmpty,
  labOptions,
  linkDown,
  linkUp,
  probe,
  scanLeftovers,
  sshRun,
  summarizeProbe,
  tempLabDir,
  useLab,
  waitFor,
} from './helpers/index.js';

const lab = useLab();

describe('a default lab', () => {
  test('has 2 load balancers and 3 backends in its own subnet, and a lab.json', () => {
    const s = lab.state;
    expect(lab.lbs().map((h) => h.name)).toEqual(['lb1', 'lb2']);
    expect(lab.backends().map((h) => h.name)).toEqual(['web1', 'web2', 'web3']);
    for (const h of s.hosts) expect(h.ip.startsWith(s.subnet.split('.').slice(0, 3).join('.') + '.')).toBe(true);
    expect(JSON.parse(readFileSync(s.files.labJson, 'utf8')).id).toBe(s.id);
  });

  test('writes an inventory that validates, with a VIP in the lab subnet and a site', async () => {
    const { inventory: inv, warnings } = loadInventory(lab.state.files.inventory, { requireSecrets: true });
    expect(warnings).toEqual([]);
    expect(inv.clusters).toHaveLength(1);
    const c = inv.clusters[0];
    expect(c.lbs.map((l) => l.address)).toEqual(lab.lbs().map((h) => h.ip));
    expect(c.vips[0].ip.startsWith(lab.state.subnet.split('.').slice(0, 3).join('.') + '.')).toBe(true);
    expect(c.sites.length).toBeGreaterThan(0);
    expect(readFileSync(lab.state.files.inventory, 'utf8')).toMatch(/host_key_policy: strict/);
  });

  test('every host runs its own sshd, reachable by OpenSSH with strict host key checking', async () => {
    for (const h of lab.state.hosts) {
      const r = await sshRun(lab.state, h.name, 'hostname');
      expect({ host: h.name, code: r.exitCode, err: r.stderr }).toEqual({ host: h.name, code: 0, err: '' });
      expect(r.stdout.trim()).toBe(h.name);
    }
  });

  test('a wrong known_hosts is refused by OpenSSH (the file really pins the keys)', async () => {
    const r = await sshRun(lab.state, 'lb1', 'true', { knownHosts: '/dev/null' });
    expect(r.exitCode).toBe(255);
    expect(r.stderr).toMatch(/Host key verification failed/);
  });

  test('each host has its own pid namespace: sshd is its init', async () => {
    const r = await inHost(lab.state, 'lb1', 'cat /proc/1/comm; ls /proc | grep -c "^[0-9]"');
    const [init, count] = r.stdout.trim().split('\n');
    expect(init).toBe('sshd');
    expect(Number(count)).toBeLessThan(20);
  });

  test('backends answer with their own name and echo the Host header (seed step 1)', async () => {
    for (const b of lab.backends()) {
      const r = await execa(
        'curl',
        ['-s', '--max-time', '3', '-H', 'Host: www.rxinxin.org', `http://${b.ip}/webserver.html`],
        { reject: false },
      );
      expect(r.stdout).toContain(`backend=${b.name}`);
      expect(r.stdout).toContain('host=www.rxinxin.org');
      expect(r.stdout).toContain('uri=/webserver.html');
    }
  });

  test('load balancers have keepalived and nginx installed but not running or configured', async () => {
    const r = await inHost(
      lab.state,
      'lb1',
      'command -v keepalived nginx >/dev/null && echo installed; pgrep -x keepalived || echo no-keepalived; ls /etc/keepalived/keepalived.conf 2>/dev/null || echo no-conf',
    );
    expect(r.stdout).toContain('installed');
    expect(r.stdout).toContain('no-keepalived');
    expect(r.stdout).toContain('no-conf');
  });

  test('a non-root user with passwordless sudo exists on every host', async () => {
    const user = lab.state.nonRootUser;
    const r = await sshRun(lab.state, 'lb2', 'id -un; sudo -n id -u', { user });
    expect(r.exitCode).toBe(0);
    expect(r.stdout.trim().split('\n')).toEqual([user, '0']);
  });

  test('traffic stays in the lab: hosts have no default route, the machine does no NAT for the subnet', async () => {
    const routes = await inNetns(lab.state, 'lb1', ['ip', '-4', 'route', 'show']);
    expect(routes.stdout).not.toMatch(/^default/m);
    expect(routes.stdout).toContain(lab.state.subnet);
    const nat = await execa('iptables', ['-w', '-t', 'nat', '-S'], { reject: false });
    expect(nat.stdout).not.toContain(lab.state.subnet);
    const forward = readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim();
    if (forward === '1') {
      // Forwarding may be on for other reasons; then no rule may accept lab traffic out.
      const fw = await execa('iptables', ['-w', '-S', 'FORWARD'], { reject: false });
      expect(fw.stdout).not.toContain(lab.state.subnet);
    }
  });
});

describe('fault helpers later tests rely on', () => {
  test('dropVrrp inserts DROP rules for protocol 112 on both sides and the undo removes them', async () => {
    const undo = await dropVrrp(lab.state, 'lb1', 'lb2');
    try {
      const r1 = await inNetns(lab.state, 'lb1', ['iptables', '-w', '-S', 'INPUT']);
      const r2 = await inNetns(lab.state, 'lb2', ['iptables', '-w', '-S', 'INPUT']);
      expect(r1.stdout).toMatch(new RegExp(`-s ${lab.host('lb2').ip}/32 -p (112|vrrp) -j DROP`));
      expect(r2.stdout).toMatch(new RegExp(`-s ${lab.host('lb1').ip}/32 -p (112|vrrp) -j DROP`));
    } finally {
      await undo();
    }
    const after = await inNetns(lab.state, 'lb1', ['iptables', '-w', '-S', 'INPUT']);
    expect(after.stdout).not.toMatch(/-p (112|vrrp)/);
  });

  test('linkDown cuts a host off and linkUp brings it back', async () => {
    const ip = lab.host('web1').ip;
    const ping = () =>
      execa('curl', ['-s', '-o', '/dev/null', '--max-time', '1', `http://${ip}/`], { reject: false }).then(
        (r) => r.exitCode === 0,
      );
    expect(await ping()).toBe(true);
    await linkDown(lab.state, 'web1');
    try {
      expect(await ping()).toBe(false);
    } finally {
      await linkUp(lab.state, 'web1');
    }
    await waitFor(() => ping(), { timeoutMs: 10_000, intervalMs: 200, what: 'web1 to answer again' });
  });

  test('probe sends at the given rate for a bounded time and timestamps every result', async () => {
    const b = lab.host('web2');
    const results = await probe({
      url: `http://${b.ip}/webserver.html`,
      hostHeader: 'www.lab.test',
      ratePerSec: 20,
      durationMs: 1000,
    });
    expect(results.length).toBeGreaterThanOrEqual(15);
    expect(results.length).toBeLessThanOrEqual(22);
    for (let i = 1; i < results.length; i++) expect(results[i].t).toBeGreaterThanOrEqual(results[i - 1].t);
    expect(results.every((r) => r.ok && r.body.includes('backend=web2'))).toBe(true);
    expect(summarizeProbe(results).failed).toBe(0);
  });

  test('probe records failures instead of throwing when nothing answers', async () => {
    const results = await probe({
      ip: lab.state.subnet.replace(/\.0\/\d+$/, '.250'),
      ratePerSec: 10,
      durationMs: 500,
      timeoutMs: 300,
    });
    expect(results.length).toBeGreaterThan(0);
    expect(results.every((r) => !r.ok && r.error)).toBe(true);
  });
});

describe('several labs, and teardown', () => {
  test('a second lab gets other names and another subnet, and its down leaves nothing', async () => {
    const second: LabState = await up(labOptions({ backends: 1, outDir: tempLabDir('second') }));
    try {
      expect(second.id).not.toBe(lab.state.id);
      expect(second.subnet).not.toBe(lab.state.subnet);
      const r = await sshRun(second, 'lb1', 'hostname');
      expect(r.stdout.trim()).toBe('lb1');
    } finally {
      await down(second.outDir);
    }
    const left = await scanLeftovers([second.id], [second.outDir]);
    expect(describeLeftovers(left)).toBe('');
    expect(isEmpty(left)).toBe(true);
    // The first lab is untouched.
    expect((await sshRun(lab.state, 'lb1', 'true')).exitCode).toBe(0);
  }, 120_000);

  test('a lab whose test process was killed is found and removed by downAll({ staleOnly })', async () => {
    const dir = tempLabDir('killed');
    const script = `import { up } from './dist/src/lab/lab.js';
const lab = await up({ clusters: 1, lbs: 2, backends: 1, dualMaster: false, outDir: ${JSON.stringify(dir)}, ephemeral: true });
console.log('UP ' + lab.id);
setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
      cwd: process.cwd(),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    await waitFor(() => /UP (hactl\d+)/.test(out), {
      timeoutMs: 90_000,
      intervalMs: 100,
      what: 'the child to bring its lab up',
    });
    const id = /UP (hactl\d+)/.exec(out)![1];
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    // The killed owner's hosts still run: that is what a stale lab is.
    expect(isEmpty(await scanLeftovers([id]))).toBe(false);
    const { removed } = await downAll({ staleOnly: true });
    expect(removed).toContain(id);
    expect(removed).not.toContain(lab.state.id);
    const left = await scanLeftovers([id], [dir]);
    expect(describeLeftovers(left)).toBe('');
    expect((await sshRun(lab.state, 'lb1', 'true')).exitCode).toBe(0);
  }, 150_000);

  test('hactl lab up refuses without root, naming the need', () => {
    if (!existsSync('/usr/sbin/runuser') && !existsSync('/sbin/runuser')) return;
    let out = '';
    try {
      execFileSync(
        'runuser',
        ['-u', 'nobody', '--', process.execPath, 'bin/run.js', 'lab', 'up', '--dir', '/tmp/hactl-never'],
        { encoding: 'utf8', stdio: 'pipe' },
      );
    } catch (e) {
      const err = e as { status: number; stderr: string; stdout: string };
      out = err.stderr + err.stdout;
      expect(err.status).not.toBe(0);
    }
    expect(out).toMatch(/root/);
    expect(existsSync('/tmp/hactl-never')).toBe(false);
  });
});
