/**
 * hactl status against the lab: who holds the VIP and each node's VRRP state as keepalived
 * reports it, after deploy, after keepalived stops on the master, in split brain; and --watch
 * refreshing over one reused SSH connection per load balancer until SIGINT.
 */
import { execa } from 'execa';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { statusJson } from '../../src/ui/status-view.js';
import { dropVrrp, GiveUp, inNetns, startService, stopService, useLab, waitFor, waitForVip } from './helpers/index.js';

type StatusJson = ReturnType<typeof statusJson>;

const ROOT = join(fileURLToPath(import.meta.url), '../../..');
const lab = useLab();
let inventory: string;
let vip: string;

async function cli(args: string[], timeoutMs = 60_000) {
  const r = await execa('node', [join(ROOT, 'bin/run.js'), ...args], {
    reject: false,
    timeout: timeoutMs,
    env: { NO_COLOR: '1' },
    cwd: ROOT,
  });
  return { code: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}

async function statusJsonOf(): Promise<{ code: number; doc: StatusJson }> {
  const r = await cli(['status', '-i', inventory, '--json']);
  try {
    return { code: r.code, doc: JSON.parse(r.stdout) as StatusJson };
  } catch {
    throw new Error(`status --json printed something that is not JSON (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  }
}

const instance = (doc: StatusJson, lb: string) => doc.lbs.find((l) => l.name === lb)!.instances[0];

/** Source ports of this machine's established SSH connections to a load balancer. */
async function sshPeers(lb: string): Promise<string[]> {
  const r = await inNetns(lab.state, lb, ['ss', '-Htn', 'state', 'established', '( sport = :22 )']);
  if (r.exitCode !== 0) throw new Error(`ss in ${lb}: ${r.stderr}`);
  return r.stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => l.trim().split(/\s+/).pop()!)
    .sort();
}

beforeAll(async () => {
  inventory = lab.state.files.inventory;
  const text = (await import('node:fs')).readFileSync(inventory, 'utf8');
  vip = text.match(/address: (\d+\.\d+\.\d+\.\d+)\/\d+, vrid/)![1];
  const r = await cli(['deploy', '-i', inventory, '--yes'], 150_000);
  if (r.code !== 0) throw new Error(`deploy failed (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  await waitForVip(lab.state, vip, ['lb1'], 30_000);
}, 180_000);

describe('hactl status on the lab', () => {
  test('after deploy: lb1 is MASTER (as keepalived says) and holds the VIP; lb2 is BACKUP', async () => {
    const { code, doc } = await statusJsonOf();
    expect(code).toBe(0);
    expect(doc.ok).toBe(true);
    expect(doc.vips).toEqual([
      {
        cluster: 'lab1',
        name: 'vip1',
        address: `${vip}/24`,
        master: 'lb1',
        holders: ['lb1'],
        health: 'ok',
        unknown: [],
      },
    ]);
    expect(instance(doc, 'lb1')).toMatchObject({ vip: 'vip1', state: 'MASTER', source: 'keepalived', holdsVip: true });
    expect(instance(doc, 'lb2')).toMatchObject({ vip: 'vip1', state: 'BACKUP', source: 'keepalived', holdsVip: false });
    expect(doc.lbs.map((l) => [l.name, l.keepalived, l.nginx])).toEqual([
      ['lb1', true, true],
      ['lb2', true, true],
    ]);

    const text = await cli(['status', '-i', inventory]);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(new RegExp(`^vip1 +${vip.replace(/\./g, '\\.')}/24 +lb1 +lb1 +ok$`, 'm'));
    expect(text.stdout).toMatch(/^lb1 +up +up +MASTER$/m);
    expect(text.stdout).toMatch(/^lb2 +up +up +BACKUP$/m);
  }, 90_000);

  test('keepalived stopped on lb1: lb2 holds the VIP and is MASTER; lb1 shows keepalived down', async () => {
    await stopService(lab.state, 'lb1', 'keepalived');
    try {
      await waitForVip(lab.state, vip, ['lb2'], 30_000);
      const { code, doc } = await statusJsonOf();
      expect(code).toBe(0); // failed over, but held by exactly one: not an error
      expect(doc.vips[0]).toMatchObject({ holders: ['lb2'], master: 'lb1', health: 'failed-over' });
      expect(instance(doc, 'lb2')).toMatchObject({ state: 'MASTER', source: 'keepalived', holdsVip: true });
      expect(instance(doc, 'lb1')).toMatchObject({ state: 'down', holdsVip: false });
      expect(doc.lbs.find((l) => l.name === 'lb1')).toMatchObject({ keepalived: false, nginx: true });

      const text = await cli(['status', '-i', inventory]);
      expect(text.stdout).toMatch(/^vip1 +\S+ +lb2 +lb1 +failed over: held by lb2, not its master lb1$/m);
      expect(text.stdout).toMatch(/^lb1 +down +up +down$/m);
      expect(text.stdout).toMatch(/^lb2 +up +up +MASTER$/m);
    } finally {
      await startService(lab.state, 'lb1', 'keepalived');
    }
    await waitForVip(lab.state, vip, ['lb1'], 30_000);
  }, 120_000);

  test('split brain: exit 1 and both holders named', async () => {
    const undo = await dropVrrp(lab.state, 'lb1', 'lb2');
    try {
      await waitForVip(lab.state, vip, ['lb1', 'lb2'], 30_000);
      const text = await cli(['status', '-i', inventory]);
      expect(text.code).toBe(1);
      expect(text.stdout).toContain('SPLIT BRAIN: held by lb1 and lb2');
      expect(text.stdout).toMatch(/^lb2 +up +up +MASTER$/m);
    } finally {
      await undo();
    }
    await waitForVip(lab.state, vip, ['lb1'], 30_000);
  }, 120_000);

  test('--watch: repeated blocks over one reused connection per load balancer; SIGINT ends it cleanly and closes them', async () => {
    expect(await sshPeers('lb1')).toEqual([]);
    const child = spawn('node', [join(ROOT, 'bin/run.js'), 'status', '-i', inventory, '--watch', '--interval', '0.5'], {
      cwd: ROOT,
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (b) => (out += String(b)));
    child.stderr.on('data', (b) => (err += String(b)));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.on('exit', (code, signal) => resolve({ code, signal })),
    );
    const blocks = () => out.split(/^cluster lab1$/m).length - 1;
    const atLeast = (n: number) => () => {
      if (child.exitCode !== null) throw new GiveUp(`status --watch exited (${child.exitCode}):\n${out}\n${err}`);
      if (blocks() < n) throw new Error(`${blocks()} refreshes so far; stderr: ${err}`);
      return true;
    };
    try {
      await waitFor(atLeast(2), { timeoutMs: 30_000, intervalMs: 100, what: 'two refreshes' });
      const first = { lb1: await sshPeers('lb1'), lb2: await sshPeers('lb2') };
      expect(first.lb1).toHaveLength(1);
      expect(first.lb2).toHaveLength(1);
      const seen = blocks();
      await waitFor(atLeast(seen + 2), { timeoutMs: 30_000, intervalMs: 100, what: 'two more refreshes' });
      // Same client ports: the refreshes reused the connections instead of opening new ones.
      expect({ lb1: await sshPeers('lb1'), lb2: await sshPeers('lb2') }).toEqual(first);
    } finally {
      child.kill('SIGINT');
    }
    const end = await Promise.race([exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 20_000))]);
    if (end === 'hung') child.kill('SIGKILL');
    expect(end).toEqual({ code: 0, signal: null });
    expect(err).toBe('');
    // Plain repeated blocks (stdout is not a terminal): no cursor movement.
    // eslint-disable-next-line no-control-regex
    expect(out).not.toMatch(/\u001b\[/);
    for (const block of out.split(/^(?=cluster lab1$)/m).filter((b) => b.trim()))
      expect(block).toMatch(/^lb1 +up +up +MASTER$/m);
    await waitFor(
      async () => ((await sshPeers('lb1')).length === 0 && (await sshPeers('lb2')).length === 0 ? true : undefined),
      { timeoutMs: 10_000, intervalMs: 100, what: 'SSH connections to close' },
    );
  }, 120_000);
});
