/**
 * hactl drain / undrain on the lab under a 20 requests/s probe (new connections and keep-alive
 * clients): draining the master moves the VIP with failures within the graceful bound, the node
 * stays out through a keepalived restart and a deploy, undrain brings the VIP back by
 * preemption; draining a backend leaves no request reaching it once the drain completed, and
 * none failing. The CLI runs as an operator runs it; the measured figures are printed.
 */
import { once } from 'node:events';
import { connect } from 'node:net';
import { startProbe, summarizeProbe, type ProbeResult } from '../../src/verify/probe.js';
import { hactl, removeScratch } from './helpers/deploy.js';
import { inHost, useLab, vipHolders, waitFor, waitForVip } from './helpers/index.js';
import { loadInventory } from '../../src/inventory/load.js';

// DRAIN_E2E_OS=mixed runs it on keepalived 2.1.5 (lb1, Debian 11) and 2.3.3 (lb2, Debian 13).
const os = process.env.DRAIN_E2E_OS as 'mixed' | 'debian-11' | 'debian-13' | undefined;
// DRAIN_E2E_DIR: a lab directory of your own (e.g. /tmp/lab-drain); default a fresh temp one.
const dir = process.env.DRAIN_E2E_DIR;
const lab = useLab({ ...(dir ? { outDir: dir } : {}), ...(os ? { os } : {}) });
let inventory: string;
let vip: string;
const measured: string[] = [];

type Doc = Record<string, unknown> & { ok: boolean; message: string };
const json = (r: { stdout: string; stderr: string; exitCode: number }): Doc => {
  try {
    return JSON.parse(r.stdout) as Doc;
  } catch {
    throw new Error(`not JSON (exit ${r.exitCode}):\n${r.stdout}\n${r.stderr}`);
  }
};

beforeAll(async () => {
  inventory = lab.state.files.inventory;
  vip = lab.state.clusters[0].vips[0].ip;
  const d = await hactl(['deploy', '-i', inventory, '--yes'], 180_000);
  if (d.exitCode !== 0) throw new Error(`deploy failed (exit ${d.exitCode}):\n${d.stdout}\n${d.stderr}`);
}, 240_000);

afterAll(() => {
  removeScratch();
  if (measured.length) console.log(measured.join('\n'));
});

/** Both kinds of client at 20/s each; the lab's backends name themselves in the body. */
function probes(durationMs: number) {
  const { inventory: inv } = loadInventory(inventory, { env: process.env, requireSecrets: false });
  const site = inv.clusters[0].sites[0];
  const base = { ip: vip, port: 80, path: '/', hostHeader: site.healthHost, ratePerSec: 20, durationMs };
  return [startProbe({ ...base, client: 'new' }), startProbe({ ...base, client: 'keepalive', connections: 4 })];
}

const figures = (what: string, rs: ProbeResult[]) => {
  const s = summarizeProbe(rs);
  return `${what}: ${s.sent} sent, ${s.failed} failed, longest outage ${s.longestOutageMs} ms${s.failed ? `, errors ${JSON.stringify(s.errors)}` : ''}`;
};

describe('drain a load balancer', () => {
  it('drain lb1 (the master) under load: the VIP moves to lb2 gracefully; lb1 stays out through a keepalived restart and a deploy; undrain: it comes back by preemption', async () => {
    expect(await vipHolders(lab.state, vip)).toEqual(['lb1']);
    const [fresh, kept] = probes(120_000);
    await new Promise((r) => setTimeout(r, 2000));

    const t0 = Date.now();
    const d = await hactl(['drain', '-i', inventory, 'lb1', '--json'], 60_000);
    const drainMs = Date.now() - t0;
    const doc = json(d);
    expect(d.exitCode).toBe(0);
    expect(doc).toMatchObject({ ok: true, node: 'lb1', value: -253, vips: [{ before: ['lb1'], after: ['lb2'] }] });
    const moved = (doc.vips as { ms: number }[])[0].ms;
    expect(await vipHolders(lab.state, vip)).toEqual(['lb2']);
    // keepalived was neither stopped nor reloaded: same pid.
    const pid = (await inHost(lab.state, 'lb1', 'cat /run/keepalived.pid')).stdout.trim();

    const st = json(await hactl(['status', '-i', inventory, '--json']));
    expect(st).toMatchObject({ ok: true });
    expect((st.lbs as { name: string; drained: boolean }[]).find((l) => l.name === 'lb1')?.drained).toBe(true);
    const v = await hactl(['verify', '-i', inventory, '--json']);
    const vd = json(v);
    expect((vd.checks as { ok: boolean }[]).filter((c) => !c.ok)).toEqual([]);
    expect(v.exitCode).toBe(0);

    // Through a keepalived restart: lb1 never takes the VIP back.
    const tr = Date.now();
    await inHost(lab.state, 'lb1', 'service keepalived restart >/dev/null 2>&1');
    expect(await vipHolders(lab.state, vip)).toEqual(['lb2']);
    const seen = new Set<string>();
    while (Date.now() - tr < 6000) {
      for (const h of await vipHolders(lab.state, vip)) seen.add(h);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect([...seen]).toEqual(['lb2']);
    // The init script returns before keepalived has written its pid file.
    const newPid = await waitFor(
      async () => (await inHost(lab.state, 'lb1', 'cat /run/keepalived.pid', { check: false })).stdout.trim(),
      { timeoutMs: 10_000, intervalMs: 100, what: "lb1's keepalived pid file after the restart" },
    );
    expect(newPid).not.toBe(pid);

    // deploy keeps it drained.
    const dep = await hactl(['deploy', '-i', inventory, '--yes', '--json'], 180_000);
    expect(dep.exitCode).toBe(0);
    expect((await inHost(lab.state, 'lb1', 'cat /var/lib/hactl/drain')).stdout.trim()).toBe('-253');
    expect(await vipHolders(lab.state, vip)).toEqual(['lb2']);

    const tu = Date.now();
    const u = await hactl(['undrain', '-i', inventory, 'lb1', '--json'], 60_000);
    const undrainMs = Date.now() - tu;
    expect(u.exitCode).toBe(0);
    expect(json(u)).toMatchObject({ ok: true, vips: [{ after: ['lb1'] }] });
    await waitForVip(lab.state, vip, ['lb1']);
    await new Promise((r) => setTimeout(r, 2000));
    const [a, b] = await Promise.all([fresh.stop(), kept.stop()]);
    measured.push(
      `drain lb1: command ${drainMs} ms, VIP on lb2 ${moved} ms after the write; undrain: command ${undrainMs} ms`,
      figures('  new connections (drain, restart, deploy, undrain)', a),
      figures('  keep-alive (4 connections)', b),
    );
    // The graceful bound: lb1 serves until lb2 has the VIP, so new connections see at most
    // the moment the address moves (2 per move at 20/s); keep-alive connections to the old
    // holder are reset when the address leaves it and retried once on a new connection.
    expect(summarizeProbe(a).failed).toBeLessThanOrEqual(4);
    expect(summarizeProbe(b).failed).toBeLessThanOrEqual(8);
  }, 400_000);

  it('refuses to drain the last healthy node (exit 2, nothing written)', async () => {
    // In service whatever the test before left.
    await hactl(['undrain', '-i', inventory, 'lb1']);
    await inHost(lab.state, 'lb2', 'service keepalived stop >/dev/null 2>&1');
    try {
      await waitForVip(lab.state, vip, ['lb1']);
      const r = await hactl(['drain', '-i', inventory, 'lb1', '--json']);
      expect(r.exitCode).toBe(2);
      expect(json(r).error).toMatchObject({ code: 'refused' });
      expect((await inHost(lab.state, 'lb1', 'cat /var/lib/hactl/drain')).stdout.trim()).toBe('0');
    } finally {
      await inHost(lab.state, 'lb2', 'service keepalived start >/dev/null 2>&1');
    }
  }, 60_000);
});

describe('drain a backend', () => {
  it('is not safe to stop while an nginx worker from before the reload still runs: it could still send it requests', async () => {
    // A client that has sent half a request holds the worker that accepted it: after the
    // reload that worker shuts down only once the request is done, and it proxies it with the
    // configuration it was started with, web1 in it. Connections to web1 are none meanwhile.
    const sock = connect(80, vip);
    await once(sock, 'connect');
    sock.write('GET / HTTP/1.1\r\nHost: x\r\n');
    await new Promise((r) => setTimeout(r, 300));
    try {
      const d = await hactl(['drain', '-i', inventory, '--backend', 'web1', '--timeout', '3', '--json'], 60_000);
      const doc = json(d);
      expect(d.exitCode).not.toBe(0);
      expect(doc).toMatchObject({ ok: false, safeToStop: false });
      expect(doc.message).toMatch(/lb1: 1 nginx worker\(s\) from before its reload/);
      expect(doc.hosts).toContainEqual(expect.objectContaining({ host: 'lb1', connections: 0, oldWorkers: 1 }));
    } finally {
      sock.destroy();
    }
    // web1 is down in nginx all the same (the drain is not undone); undrain brings it back.
    expect((await hactl(['undrain', '-i', inventory, '--backend', 'web1'], 60_000)).exitCode).toBe(0);
  }, 120_000);

  it('drain --backend web1 under load: none fails, none reaches web1 after the drain completed; undrain brings it back', async () => {
    const [fresh, kept] = probes(60_000);
    await new Promise((r) => setTimeout(r, 2000));
    const d = await hactl(['drain', '-i', inventory, '--backend', 'web1', '--json'], 120_000);
    const done = Date.now();
    expect(d.exitCode).toBe(0);
    const doc = json(d);
    expect(doc).toMatchObject({ ok: true, safeToStop: true });
    await new Promise((r) => setTimeout(r, 5000));
    const after = Date.now();
    const u = await hactl(['undrain', '-i', inventory, '--backend', 'web1', '--json'], 120_000);
    expect(u.exitCode).toBe(0);
    await new Promise((r) => setTimeout(r, 2000));
    const rs = [...(await fresh.stop()), ...(await kept.stop())];
    const web1 = (r: ProbeResult) => r.body.includes('backend=web1');
    const during = rs.filter((r) => r.t >= done && r.t + r.latencyMs <= after);
    const back = rs.filter((r) => r.t > Date.now() - 1500);
    measured.push(
      `drain --backend web1: ${doc.durationMs} ms, connections gone ${doc.connectionsGoneMs} ms after the last reload`,
      figures('  both clients (drain, 5 s drained, undrain)', rs),
      `  while drained: ${during.length} requests, ${during.filter(web1).length} reached web1`,
    );
    expect(rs.filter((r) => !r.ok)).toEqual([]);
    expect(during.length).toBeGreaterThan(100);
    expect(during.filter(web1)).toEqual([]);
    expect(rs.filter(web1).length).toBeGreaterThan(0);
    expect(back.length).toBeGreaterThan(0);
    let last = '';
    await waitFor(
      async () => {
        const v = await hactl(['verify', '-i', inventory, '--quiet']);
        last = `${v.stdout}${v.stderr}`;
        return v.exitCode === 0;
      },
      { timeoutMs: 30_000, intervalMs: 1000, what: 'verify to pass after undrain' },
    ).catch((e: Error) => {
      throw new Error(`${e.message}\n${last}`);
    });
  }, 300_000);
});
