/**
 * The fault watchdog and the leftovers, run by a real sh on sandbox hosts: it survives the
 * exec that started it, undoes the fault after the maximum fault time and removes itself; the
 * normal undo cancels it; `--undo` claims and undoes what is left; isolate keeps the
 * operator's SSH flow open and its undo removes every rule; freeze is seen and undone.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { buildFault, restoredCheck, type FaultKind } from '../../../src/failover/faults.js';
import { describeLeftovers } from '../../../src/failover/leftovers.js';
import { armAndInject, cancelWatchdog, maxFaultSeconds, undoAndCancel } from '../../../src/failover/watchdog.js';
import { HOST_PATHS } from '../../../src/remote/paths.js';
import { raw, render, script, type Shell } from '../../../src/remote/script.js';
import { joinSections, parseSections } from '../../../src/remote/section.js';
import { leftoversSection, undoFaultsSection } from '../../../src/remote/sections/faults.js';
import { waitFor } from '../../../src/util/wait-for.js';
import { sh } from '../../../src/shell/quote.js';
import { Sandbox, type SandboxHost } from '../../helpers/sandbox.js';

const target = {
  serviceManager: 'sysvinit' as const,
  peers: ['10.0.0.12'],
  family: 4 as const,
  vips4: ['10.0.0.100'],
};
let sb: Sandbox;
let host: SandboxHost;
let n = 0;

beforeEach(async () => {
  sb = new Sandbox();
  host = sb.add('lb1', { iface: 'eth0', cidr: '10.0.0.11/24' });
  await host.shell('service nginx start; service keepalived start');
});
afterEach(async () => {
  // No watchdog of this test may outlive it.
  await run(cancelAll());
  sb.remove();
});

const run = (s: Shell) => host.exec(render(s, host.rootPrefix));
/**
 * As a hactl that is gone by now: the script runs in a shell whose parent (the "connection",
 * which the record names) exits right after it. Plain run() keeps the test process as parent.
 */
const runGone = (s: Shell) => host.exec(sh(['sh', '-c', render(s, host.rootPrefix)]));
const faultsDir = () => join(host.rootPrefix, HOST_PATHS.faultsDir);
const files = () => (existsSync(faultsDir()) ? readdirSync(faultsDir()).sort() : []);
const watchdogs = () => {
  try {
    return execFileSync('pgrep', ['-f', `hactl-fault-watchdog .*${host.rootPrefix}`], { encoding: 'utf8' }).trim();
  } catch {
    return '';
  }
};
const cancelAll = (): Shell =>
  script(
    raw(':'),
    ...files()
      .filter((f) => f.endsWith('.state'))
      .map((f) => cancelWatchdog(f.replace(/\.state$/, ''))),
  );

function spec(kind: FaultKind, maxSeconds: number) {
  const fault = buildFault(kind, target);
  return { id: `t${++n}-${kind}`, fault, restored: restoredCheck(kind, target), maxSeconds, by: 'alice@laptop' };
}

async function leftovers() {
  const r = await run(joinSections([leftoversSection()]));
  return parseSections([leftoversSection()] as const, r.stdout)[0];
}

test('the maximum fault time: 3 × the bound + 10 s, at most 120 s', () => {
  expect(maxFaultSeconds(3609)).toBe(21);
  expect(maxFaultSeconds(609)).toBe(12);
  expect(maxFaultSeconds(60_000)).toBe(120);
});

test('armed, the fault recorded; after the maximum fault time the watchdog undoes it and leaves nothing', async () => {
  const s = spec('stop-nginx', 2);
  const r = await runGone(armAndInject(s));
  expect({ code: r.code, err: r.stderr }).toEqual({ code: 0, err: '' });
  expect(host.running('nginx')).toBe(false);
  const l = await leftovers();
  expect(l.records).toEqual([
    expect.objectContaining({ id: s.id, kind: 'stop-nginx', status: 'armed', by: 'alice@laptop', watchdogAlive: true }),
  ]);
  expect(l.records[0].deadline! - l.records[0].started!).toBe(2);
  expect(l.records[0].sessionAlive).toBe(false);
  expect(describeLeftovers(l)[0]).toMatch(
    /^stop-nginx \(stop nginx on the master \(service nginx stop\)\) left by an interrupted failover-test started at \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ by alice on laptop: undone automatically at .*, or now with `hactl failover-test --undo`$/,
  );
  // The exec that armed it has ended: the watchdog lives on by itself.
  await waitFor(() => host.running('nginx') && files().length === 0, { timeoutMs: 10_000, what: 'the watchdog undo' });
  await waitFor(() => watchdogs() === '', { timeoutMs: 5000, what: 'the watchdog to exit' });
  expect(host.log()).toContain('service nginx start');
});

test('the normal undo cancels the watchdog: its process group is gone, its record too, it never fires', async () => {
  const s = spec('stop-keepalived', 30);
  expect((await run(armAndInject(s))).code).toBe(0);
  // Armed by a hactl still connected (this process): in place, not interrupted.
  const live = await leftovers();
  expect(live.records[0].sessionAlive).toBe(true);
  expect(describeLeftovers(live)[0]).toMatch(
    /^stop-keepalived .* in place: a failover-test started at .* is still connected/,
  );
  expect(watchdogs()).not.toBe('');
  const r = await run(undoAndCancel(s));
  expect({ code: r.code, out: r.stdout.trim() }).toEqual({ code: 0, out: 'watchdog cancelled' });
  expect(host.running('keepalived')).toBe(true);
  expect(files()).toEqual([]);
  await waitFor(() => watchdogs() === '', { timeoutMs: 5000, what: 'the watchdog to be gone' });
});

test('an undo that fails does not cancel the watchdog (it stays the backstop)', async () => {
  const s = spec('stop-nginx', 30);
  expect((await run(armAndInject(s))).code).toBe(0);
  host.write('/.sandbox/fail-nginx-start', '');
  const r = await run(undoAndCancel(s));
  expect(r.code).not.toBe(0);
  expect(files()).toContain(`${s.id}.state`);
  expect(watchdogs()).not.toBe('');
});

test('a watchdog whose undo keeps failing keeps its record as .failed, and says so', async () => {
  const s = spec('stop-nginx', 1);
  host.write('/.sandbox/fail-nginx-start', '');
  expect((await run(armAndInject(s))).code).toBe(0);
  await waitFor(() => files().includes(`${s.id}.failed`), { timeoutMs: 15_000, what: 'the .failed record' });
  const l = await leftovers();
  expect(l.records[0]).toMatchObject({ status: 'failed', watchdogAlive: false });
  expect(describeLeftovers(l)[0]).toMatch(/its watchdog could not undo it/);
}, 20_000);

test('--undo claims every record, stops its watchdog, undoes, and is idempotent', async () => {
  const a = spec('stop-nginx', 60);
  const b = spec('partition', 60);
  expect((await run(armAndInject(a))).code).toBe(0);
  expect((await run(armAndInject(b))).code).toBe(0);
  expect(host.read('/.sandbox/iptables')).toMatch(/hactl-failover-test/);
  const sections = [leftoversSection('before'), undoFaultsSection, leftoversSection('after')] as const;
  const [before, actions, after] = parseSections(sections, (await run(joinSections(sections))).stdout);
  expect(before.records.map((r) => r.kind).sort()).toEqual(['partition', 'stop-nginx']);
  expect(before.rules).toHaveLength(2);
  expect(actions).toEqual({ undone: [a.id, b.id].sort(), failed: [], waited: [], sweepOk: true });
  expect(after).toMatchObject({ records: [], rules: [], frozen: [] });
  expect(host.running('nginx')).toBe(true);
  expect(files()).toEqual([]);
  await waitFor(() => watchdogs() === '', { timeoutMs: 5000, what: 'the watchdogs to be gone' });
  const [, again] = parseSections(sections, (await run(joinSections(sections))).stdout);
  expect(again).toEqual({ undone: [], failed: [], waited: [], sweepOk: true });
});

test('isolate: the SSH flow is accepted above the drops; the undo removes every rule hactl made', async () => {
  const s = spec('isolate', 60);
  expect((await run(armAndInject(s))).code).toBe(0);
  const rules = (host.read('/.sandbox/iptables') ?? '').trim().split('\n');
  expect(rules).toEqual([
    'INPUT -p tcp -s 10.0.0.1 --sport 50022 -d 10.0.0.200 --dport 22 -m comment --comment hactl-failover-test -j ACCEPT',
    'OUTPUT -p tcp -s 10.0.0.200 --sport 22 -d 10.0.0.1 --dport 50022 -m comment --comment hactl-failover-test -j ACCEPT',
    'INPUT -i lo -m comment --comment hactl-failover-test -j ACCEPT',
    'OUTPUT -o lo -m comment --comment hactl-failover-test -j ACCEPT',
    'INPUT -m comment --comment hactl-failover-test -j DROP',
    'OUTPUT -m comment --comment hactl-failover-test -j DROP',
  ]);
  expect((host.read('/.sandbox/ip6tables') ?? '').trim().split('\n')).toHaveLength(4);
  // ARP for the VIP dropped both ways (a dead host answers no ARP either), in hactl's own chain.
  expect(host.read('/.sandbox/arptables')).toBe(
    ':hactl-failover-test\n' +
      'hactl-failover-test --destination-ip 10.0.0.100 -j DROP\n' +
      'hactl-failover-test --source-ip 10.0.0.100 -j DROP\n' +
      'INPUT -j hactl-failover-test\n' +
      'OUTPUT -j hactl-failover-test\n',
  );
  expect((await leftovers()).rules).toEqual(
    expect.arrayContaining([expect.stringMatching(/^arptables chain hactl-failover-test/)]),
  );
  // keepalived stopped, so not even its gratuitous ARPs (sent on a packet socket) leave.
  expect((await leftovers()).frozen).toEqual([expect.objectContaining({ program: 'keepalived' })]);
  host.write('/.sandbox/iptables', `${host.read('/.sandbox/iptables')}INPUT -p tcp --dport 80 -j ACCEPT\n`);
  const r = await run(undoAndCancel(s));
  expect(r.code).toBe(0);
  expect(host.read('/.sandbox/iptables')).toBe('INPUT -p tcp --dport 80 -j ACCEPT\n');
  expect(host.read('/.sandbox/ip6tables')).toBe('');
  // The chain and the jumps to it are gone.
  expect({ arp: host.read('/.sandbox/arptables'), files: files() }).toEqual({ arp: '', files: [] });
  expect((await leftovers()).frozen).toEqual([]);
  expect(await run(script(raw(restoredCheck('isolate', target))))).toMatchObject({ code: 0 });
});

test('isolate refuses when it cannot find the SSH session it would have to keep open', () => {
  const f = buildFault('isolate', target);
  const r = (() => {
    try {
      execFileSync('sh', ['-c', f.precheck!], { env: { PATH: process.env.PATH }, encoding: 'utf8', stdio: 'pipe' });
      return { code: 0, err: '' };
    } catch (e) {
      const x = e as { status: number; stderr: string };
      return { code: x.status, err: x.stderr };
    }
  })();
  // Under jest this process may itself run in an SSH session; the sandbox's sh below does not look past its own env.
  if (process.env.SSH_CONNECTION === undefined) {
    expect(r.code).toBe(3);
    expect(r.err).toMatch(/refusing to isolate the host, the rules could lock you out/);
  }
});

test('freeze: keepalived and nginx seen stopped by a signal, resumed by the undo', async () => {
  const s = spec('freeze', 60);
  expect((await run(armAndInject(s))).code).toBe(0);
  const l = await leftovers();
  expect(l.frozen.map((f) => f.program)).toEqual(['keepalived', 'nginx']);
  // Explained by the freeze record: one line, not three.
  expect(describeLeftovers(l)).toHaveLength(1);
  expect((await run(undoAndCancel(s))).code).toBe(0);
  expect((await leftovers()).frozen).toEqual([]);
});

test('rules and frozen processes no record explains are reported as such', async () => {
  host.write('/.sandbox/iptables', 'INPUT -p 112 -m comment --comment hactl-failover-test -j DROP\n');
  await host.shell('pkill -STOP -x nginx');
  const lines = describeLeftovers(await leftovers());
  expect(lines).toEqual([
    expect.stringMatching(/^1 firewall rule\(s\) marked hactl-failover-test with no fault record/),
    expect.stringMatching(/^nginx \(pid 5000002\) is stopped by a signal \(SIGSTOP\) and no hactl fault explains it/),
  ]);
});
