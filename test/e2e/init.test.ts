/**
 * hactl init against the lab: discovery over real SSH proposes the lab's interface, a free VIP
 * in its subnet and unseen VRIDs; the inventories it writes (from flags, and from the wizard
 * with scripted answers) deploy, and the site answers through the VIPs.
 */
import { join } from 'node:path';
import { execa } from 'execa';
import { discoverer } from '../../src/init/discover.js';
import { runInit } from '../../src/init/init.js';
import { ACCEPT, scriptedPrompter } from '../../src/cli/prompter.js';
import { loadInventoryFile } from '../../src/inventory/load.js';
import { ROOT } from '../helpers/inventory.js';
import { useLab, waitFor } from './helpers/index.js';

const lab = useLab();
const PASS = 'init1234';
const env = { ...process.env, HACTL_VRRP_PASS: PASS, SSH_AUTH_SOCK: '' };

const hactl = (args: string[]) =>
  execa(process.execPath, [join(ROOT, 'bin', 'run.js'), ...args], { cwd: ROOT, env, reject: false, timeout: 240_000 });
/** Fails with the command's output, so a failed deploy explains itself. */
function succeeded(r: { exitCode?: number; stdout: string; stderr: string }, what: string): void {
  if (r.exitCode !== 0)
    throw new Error(
      `${what} exited ${r.exitCode}\n--- stdout\n${r.stdout.slice(-4000)}\n--- stderr\n${r.stderr.slice(-4000)}`,
    );
}
const prefix24 = () => lab.state.subnet.replace(/\.0\/24$/, '.');

async function siteAnswers(vip: string): Promise<string> {
  return waitFor(
    async () => {
      const r = await execa(
        'curl',
        ['-s', '--max-time', '2', '-H', `Host: ${lab.state.serverName}`, `http://${vip}${lab.state.healthPath}`],
        { reject: false },
      );
      return r.exitCode === 0 && r.stdout.includes('backend=') ? r.stdout : undefined;
    },
    { timeoutMs: 15_000, intervalMs: 200, what: `the site through ${vip}` },
  );
}

const sshFlags = () => [
  '--identity-file',
  lab.state.files.identity,
  '--known-hosts',
  lab.state.files.knownHosts,
  '--host-key-policy',
  'strict',
];

describe('hactl init on the lab', () => {
  /** Set by the first test once its inventory is deployed; the wizard test discovers that instance. */
  let running: { vip: string; vrid: number } | undefined;

  test('non-interactive with discovery: proposes eth0 and a free VIP in the lab subnet; the inventory deploys and serves', async () => {
    const file = join(lab.state.outDir, 'init-flags.yaml');
    const lbs = lab.lbs();
    const r = await hactl([
      'init',
      '--output',
      file,
      '--yes',
      ...lbs.flatMap((h) => ['--lb', `${h.name}=${h.ip}`]),
      ...sshFlags(),
      ...lab.backends().flatMap((b) => ['--backend', `${b.name}=${b.ip}:80`]),
      '--server-name',
      lab.state.serverName,
      '--health-path',
      lab.state.healthPath,
    ]);
    succeeded(r, 'hactl init');
    for (const h of lbs)
      expect(r.stderr).toContain(`${h.name}: eth0 ${h.ip}/24; VRIDs seen: none (listened 3s with python3)`);
    expect(r.stdout).toContain(`hactl deploy -i ${file} --dry-run`);

    const { inventory, problems } = loadInventoryFile(file, { env, requireSecrets: true });
    expect(problems).toEqual([]);
    const c = inventory!.clusters[0];
    expect(c.interface).toBe('eth0');
    const vip = c.vips[0];
    expect(vip.ip.startsWith(prefix24())).toBe(true);
    expect(vip.prefix).toBe(24);
    expect(lab.state.hosts.map((h) => h.ip)).not.toContain(vip.ip);
    expect(vip.ip).toBe(`${prefix24()}249`);
    expect(vip.vrid).toBe(51);

    const d = await hactl(['deploy', '-i', file, '--yes']);
    succeeded(d, 'hactl deploy');
    expect(await siteAnswers(vip.ip)).toContain(`host=${lab.state.serverName}`);
    running = { vip: vip.ip, vrid: vip.vrid };
  }, 300_000);

  test('the wizard with scripted answers (dual-master) sees the running VRRP instance, avoids it, and its inventory deploys', async () => {
    // Same cluster name (web) as the first inventory: deploy manages one nginx file per cluster and
    // does not remove another cluster's, so a renamed cluster would collide on upstream "www".
    if (!running)
      throw new Error('this test discovers the VRRP instance the previous test deploys: run the whole file');
    const file = join(lab.state.outDir, 'init-wizard.yaml');
    const lbs = lab.lbs();
    const prompter = scriptedPrompter({
      cluster: ACCEPT,
      lbs: lbs.map((h) => `${h.name}=${h.ip}`).join(' '),
      user: ACCEPT,
      identityFile: lab.state.files.identity,
      knownHosts: lab.state.files.knownHosts,
      hostKeyPolicy: 'strict',
      mode: 'dual-master',
      interface: ACCEPT,
      'vip1.address': ACCEPT,
      'vip1.vrid': ACCEPT,
      'vip1.priorities': ACCEPT,
      'vip2.address': ACCEPT,
      'vip2.vrid': ACCEPT,
      'vip2.priorities': ACCEPT,
      backends: lab
        .backends()
        .map((b) => `${b.name}=${b.ip}`)
        .join(' '),
      serverNames: lab.state.serverName,
      healthPath: lab.state.healthPath,
      vrrpPassEnv: ACCEPT,
    });
    const log: string[] = [];
    const r = await runInit({ output: file }, { prompter, discover: discoverer(), log: (l) => log.push(l), env });
    const asked = Object.fromEntries(prompter.asked.map((q) => [q.id, q.default]));
    // The first test's deploy runs VRID 51 with VIP .249 on this segment: heard and read, so avoided.
    expect(log.join('\n')).toMatch(/VRIDs seen: 51/);
    expect(asked).toMatchObject({
      interface: 'eth0',
      'vip1.vrid': '52',
      'vip2.vrid': '53',
      'vip1.priorities': 'lb1=150,lb2=100',
      'vip2.priorities': 'lb2=150,lb1=100',
    });
    expect(asked['vip1.address']).toBe(`${prefix24()}248/24`);
    expect(asked['vip2.address']).toBe(`${prefix24()}247/24`);
    expect(r.answers.vips.map((v) => v.master)).toEqual(['lb1', 'lb2']);

    const d = await hactl(['deploy', '-i', file, '--yes']);
    succeeded(d, 'hactl deploy');
    for (const v of r.answers.vips) expect(await siteAnswers(v.address.split('/')[0])).toContain('backend=');
  }, 300_000);
});
