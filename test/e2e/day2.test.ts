/**
 * Day-2 operations on real lab hosts, in the order an operator meets them:
 * 1. the VRID census: a rogue keepalived on a backend (a real Debian host outside the
 *    inventory) advertising the lab VIP's VRID makes the first deploy refuse and change
 *    nothing; on another VRID the deploy proceeds;
 * 2. state-change hooks: a webhook receiver on this machine, listening on the lab bridge's
 *    address only, gets each node's events in order during a failover-test, while a command
 *    hook that hangs is running and the failover still meets its bound;
 * 3. releases and rollback: deploy A, deploy B (other backends), rollback → every host's files
 *    byte-identical to A's, the site serves A's backends, no failed request under probe; a
 *    release directory removed by hand fails that host before anything changes.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HOST_PATHS } from '../../src/remote/paths.js';
import { httpGet, is2xx } from '../../src/util/http.js';
import {
  backendsThroughVip,
  deployCli,
  hactl,
  hashes,
  inventoryVariant,
  jsonOf,
  managedFiles,
  removeScratch,
  snapshots,
  startHactl,
} from './helpers/deploy.js';
import { inHost, putFile, servicePids, useLab, waitFor } from './helpers/index.js';

const lab = useLab();
afterAll(removeScratch);

const cluster = () => lab.state.clusters[0];
const vip = () => cluster().vips[0];
const lbNames = () => lab.lbs().map((h) => h.name);
const rogue = () => lab.backends()[0];
/** An address of the lab subnet nobody uses, for the rogue's own VIP. */
const rogueVip = () => `${lab.state.subnet.split('.').slice(0, 3).join('.')}.249`;

async function startRogue(vrid: number): Promise<void> {
  const conf = [
    'global_defs { router_id rogue }',
    'vrrp_instance rogue {',
    '  state MASTER',
    '  interface eth0',
    `  virtual_router_id ${vrid}`,
    '  priority 120',
    '  advert_int 1',
    `  virtual_ipaddress { ${rogueVip()}/${lab.state.prefix} dev eth0 }`,
    '}',
    '',
  ].join('\n');
  await inHost(lab.state, rogue().name, 'service keepalived stop >/dev/null 2>&1; pkill -x keepalived; true', {
    check: false,
  });
  await waitFor(async () => (await servicePids(lab.state, rogue().name, 'keepalived')).length === 0, {
    timeoutMs: 10_000,
    what: 'the old rogue keepalived to exit',
  });
  await putFile(lab.state, rogue().name, '/etc/keepalived/keepalived.conf', conf);
  await inHost(lab.state, rogue().name, 'service keepalived start');
  // Master of its own VIP: it is advertising.
  await waitFor(
    async () => (await inHost(lab.state, rogue().name, 'ip -o addr show dev eth0')).stdout.includes(rogueVip()),
    { timeoutMs: 15_000, what: `the rogue keepalived on ${rogue().name} to take ${rogueVip()}` },
  );
}

async function stopRogue(): Promise<void> {
  await inHost(lab.state, rogue().name, 'service keepalived stop >/dev/null 2>&1; pkill -x keepalived; true', {
    check: false,
  });
}

describe('VRID census before the first deploy', () => {
  afterAll(stopRogue);

  test('a rogue keepalived with the VIP VRID: the first deploy refuses, naming it, and changes nothing', async () => {
    await startRogue(vip().vrid);
    const files = managedFiles(cluster().name);
    const before = await snapshots(lab.state, lbNames(), files);
    const r = await deployCli(lab.state.files.inventory, '--yes', '--json');
    const j = jsonOf(r);
    expect({ exit: r.exitCode, ok: j.ok, phase: j.phase }).toEqual({ exit: 1, ok: false, phase: 'preflight' });
    expect(j.message).toContain(
      `VRID ${vip().vrid} (${vip().name}) is already advertised by ${rogue().ip}, priority 120`,
    );
    expect(j.message).toContain(rogueVip());
    const after = await snapshots(lab.state, lbNames(), files);
    expect(after).toEqual(before);
    console.log(`census refusal: ${r.ms} ms wall (core ${j.durationMs} ms); ${j.message}`);
    for (const lb of lbNames()) expect(await servicePids(lab.state, lb, 'keepalived')).toEqual([]);
  }, 120_000);

  test('the rogue on another VRID: the deploy proceeds and its checks pass', async () => {
    await startRogue(((vip().vrid + 100) % 255) + 1);
    const r = await deployCli(lab.state.files.inventory, '--yes', '--json');
    const j = jsonOf(r) as ReturnType<typeof jsonOf> & { census: { othersInUse: { from: string }[] }[] };
    expect({ exit: r.exitCode, ok: j.ok, message: j.message }).toEqual({
      exit: 0,
      ok: true,
      message: expect.any(String),
    });
    expect(j.census[0].othersInUse.map((o) => o.from)).toContain(rogue().ip);
  }, 180_000);
});

interface HookEvent {
  cluster: string;
  vip: string;
  node: string;
  old_state: string | null;
  new_state: string;
  priority: number;
  time: string;
}

/** A webhook receiver on the lab bridge's address only: lab hosts reach it, nothing else does. */
async function receiver(): Promise<{ server: Server; url: string; events: HookEvent[] }> {
  const events: HookEvent[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      try {
        events.push(JSON.parse(body) as HookEvent);
      } catch {
        /* not an event: ignored */
      }
      res.end('ok\n');
    });
  });
  await new Promise<void>((r) => server.listen(0, lab.state.bridgeIp, () => r()));
  const port = (server.address() as AddressInfo).port;
  return { server, url: `http://${lab.state.bridgeIp}:${port}/hactl`, events };
}

const HANG = '/usr/local/bin/hactl-e2e-hang';
const hookedInventory = (url: string) =>
  inventoryVariant(lab.state, 'hooks', (doc) => {
    doc.clusters[0].notify = { command: HANG, webhook: url, timeout: 3 };
  });

describe('state-change hooks during a failover-test', () => {
  let rx: Awaited<ReturnType<typeof receiver>>;
  beforeAll(async () => {
    rx = await receiver();
  });
  afterAll(() => rx.server.close());

  test('events arrive in order per node; a hanging command hook does not delay the failover', async () => {
    // Hangs well past its 3 s timeout; leaves a mark when keepalived's notify started it.
    for (const lb of lbNames())
      await putFile(lab.state, lb, HANG, `#!/bin/sh\ntouch /run/hactl-hang-$HACTL_STATE\nexec sleep 60\n`, '0755');
    const inv = hookedInventory(rx.url);
    expect(jsonOf(await deployCli(inv, '--yes', '--json')).ok).toBe(true);
    const v = await hactl(['verify', '-i', inv, '--json']);
    const hookChecks = (JSON.parse(v.stdout) as { checks: { kind: string; ok: boolean }[] }).checks.filter(
      (c) => c.kind === 'hook',
    );
    expect(hookChecks.map((c) => c.ok)).toEqual([true, true, true, true]);
    rx.events.length = 0;
    const f = await hactl(['failover-test', '-i', inv, '--fault', 'stop-nginx', '--yes', '--json'], 240_000);
    const report = JSON.parse(f.stdout) as {
      faults: { fault: string; pass: boolean; downtimeMs: number; boundMs: number }[];
    };
    expect(report.faults.map((x) => [x.fault, x.pass])).toEqual([['stop-nginx', true]]);
    const [master, backup] = lbNames();
    const of = (node: string) => rx.events.filter((e) => e.node === node);
    await waitFor(() => of(master).at(-1)?.new_state === 'MASTER' && of(backup).at(-1)?.new_state === 'BACKUP', {
      timeoutMs: 60_000,
      intervalMs: 200,
      what: `${master} back to MASTER and ${backup} to BACKUP at the receiver`,
    });
    const states = (node: string) => of(node).map((e) => e.new_state);
    // The master went FAULT, then came back; the backup took over, then gave it back.
    expect(states(master).indexOf('FAULT')).toBeGreaterThanOrEqual(0);
    expect(states(master).lastIndexOf('MASTER')).toBeGreaterThan(states(master).indexOf('FAULT'));
    expect(states(backup).indexOf('MASTER')).toBeGreaterThanOrEqual(0);
    expect(states(backup).lastIndexOf('BACKUP')).toBeGreaterThan(states(backup).indexOf('MASTER'));
    // In order: each event's old state is the state of the one delivered before it.
    for (const node of [master, backup]) {
      const evs = of(node);
      for (let i = 1; i < evs.length; i++) expect([node, i, evs[i].old_state]).toEqual([node, i, evs[i - 1].new_state]);
      expect(evs.every((e) => e.cluster === cluster().name && e.vip === vip().name)).toBe(true);
    }
    // The command hook was running (and hanging) while the backup took over.
    await inHost(lab.state, backup, 'test -e /run/hactl-hang-MASTER');
    const fx = report.faults[0];
    console.log(
      `hooks: stop-nginx downtime ${fx.downtimeMs} ms (bound ${fx.boundMs} ms) with a hanging command hook; webhook events ${master}: ${states(master).join(' ')}; ${backup}: ${states(backup).join(' ')}`,
    );
  }, 360_000);
});

describe('releases and rollback', () => {
  const B = () =>
    inventoryVariant(lab.state, 'b', (doc) => {
      doc.clusters[0].sites[0].backends = [lab.backends()[2].name];
    });

  test('deploy A, deploy B, rollback under probe: A byte for byte, A backends, no failed request', async () => {
    const files = managedFiles(cluster().name);
    const a = lab.state.files.inventory;
    expect(jsonOf(await deployCli(a, '--yes', '--json')).ok).toBe(true);
    const filesA = await snapshots(lab.state, lbNames(), files);
    expect(jsonOf(await deployCli(B(), '--yes', '--json')).ok).toBe(true);
    const seenB = await backendsThroughVip(
      vip().ip,
      lab.state.serverName,
      lab.state.healthPath,
      [lab.backends()[2].name],
      20,
    );
    expect([...seenB.seen]).toEqual([lab.backends()[2].name]);

    const run = startHactl(['rollback', '-i', B(), '--yes', '--json'], 180_000);
    let done = false;
    void run.finally(() => (done = true));
    const failures: string[] = [];
    let requests = 0;
    while (!done && requests < 3000) {
      const r = await httpGet({
        ip: vip().ip,
        port: 80,
        host: lab.state.serverName,
        path: lab.state.healthPath,
        timeoutMs: 2000,
      });
      requests++;
      if (!is2xx(r)) failures.push(`${r.status || r.error}`);
    }
    const result = await run;
    const j = JSON.parse(String(result.stdout)) as { ok: boolean; targets: { to: string }[]; message: string };
    expect({ exit: result.exitCode, ok: j.ok }).toEqual({ exit: 0, ok: true });
    expect({ requests: requests > 10, failures }).toEqual({ requests: true, failures: [] });
    console.log(`rollback: ${requests} requests through the VIP while it ran, ${failures.length} failed; ${j.message}`);

    const now = await snapshots(lab.state, lbNames(), files);
    for (const lb of lbNames()) expect([lb, hashes(now[lb])]).toEqual([lb, hashes(filesA[lb])]);
    const want = lab.backends().map((b) => b.name);
    const seen = await backendsThroughVip(vip().ip, lab.state.serverName, lab.state.healthPath, want, 60);
    expect([...seen.seen].sort()).toEqual(want.sort());

    const rel = await hactl(['releases', '-i', a, '--json']);
    const doc = JSON.parse(rel.stdout) as { ok: boolean; clusters: { current: string }[] };
    expect(doc).toMatchObject({ ok: true, clusters: [{ current: j.targets[0].to }] });
    // A later deploy with B's inventory shows the rollback as drift to undo.
    const drift = jsonOf(await deployCli(B(), '--dry-run', '--json'));
    expect(
      drift.plans
        .filter((p) => p.changed)
        .map((p) => p.host)
        .sort(),
    ).toEqual(lbNames().sort());
  }, 300_000);

  test('a release directory removed by hand: that host fails with a clear message before anything changes', async () => {
    const files = managedFiles(cluster().name);
    const rel = JSON.parse((await hactl(['releases', '-i', lab.state.files.inventory, '--json'])).stdout) as {
      clusters: { current: string; rows: { id: string }[] }[];
    };
    const c = rel.clusters[0];
    const previous = c.rows.map((r) => r.id).find((id) => id < c.current)!;
    const [, lb2] = lbNames();
    await inHost(lab.state, lb2, `rm -rf ${HOST_PATHS.releasesDir}/${previous}`);
    const before = await snapshots(lab.state, lbNames(), files);
    const r = await hactl(['rollback', '-i', lab.state.files.inventory, '--yes', '--json']);
    const j = jsonOf(r);
    expect({ exit: r.exitCode, phase: j.phase }).toEqual({ exit: 1, phase: 'preflight' });
    const host = j.hosts.find((h) => h.host === lb2)!;
    expect(host.error).toContain(
      `${lb2} has no release ${previous}: ${HOST_PATHS.releasesDir}/${previous} is not there`,
    );
    expect(await snapshots(lab.state, lbNames(), files)).toEqual(before);
  }, 180_000);
});
