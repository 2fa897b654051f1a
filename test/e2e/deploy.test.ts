/**
 * `hactl deploy` against the default lab (lb1 master, lb2 backup, web1-3), run as the built
 * CLI without a terminal, the way an operator or CI runs it. The tests run in order on one lab
 * and each leaves it converged on a known inventory for the next. What is asserted is the
 * hosts' real state: file hashes and inode stamps, service pids, what keepalived is running
 * with, who holds the VIP and what answers through it.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { parse } from 'yaml';
import { loadInventory } from '../../src/inventory/load.js';
import { PATHS, renderHost } from '../../src/render/render.js';
import type { Versions } from '../../src/render/features.js';
import { sh } from '../../src/shell/quote.js';
import { fingerprint } from '../../src/transport/known-hosts.js';
import { sshConnector } from '../../src/run/connector.js';
import { lockAndReadFacts } from '../../src/run/host-ops.js';
import { httpGet } from '../../src/util/http.js';
import { inHost, startProbe, summarizeProbe, useLab, waitFor, waitForVip, type ProbeSummary } from './helpers/index.js';
import {
  BIN,
  backendsThroughVip,
  deployCli,
  hashes,
  hostOf,
  inventoryVariant,
  jsonOf,
  managedFiles,
  removeScratch,
  runningVrrp,
  scratchDir,
  snapshots,
  startHactl,
  waitForNewWorkers,
  type CliResult,
  type HostSnapshot,
  type InventoryDoc,
} from './helpers/deploy.js';

const lab = useLab();
afterAll(removeScratch);
const LBS = ['lb1', 'lb2'];
const CLUSTER = 'lab1';
const FILES = managedFiles(CLUSTER);
const NGINX_CONF = PATHS.nginxConf(CLUSTER);
const SITE = 'www.lab.test';
const HEALTH = '/webserver.html';
const vip = () => lab.state.clusters[0].vips[0].ip;
const text = (r: CliResult) => `${r.stdout}\n${r.stderr}`;
/** On failure, show what the CLI said. */
const said = (r: CliResult) => ({ exit: r.exitCode, output: text(r).slice(-4000) });

/** sha256 of every file the inventory renders, per load balancer. */
/** The keepalived and nginx versions the lab's load balancers run (deploy renders for them). */
let labVersions: Versions = {};
beforeAll(async () => {
  const v = (await inHost(lab.state, 'lb1', 'keepalived --version 2>&1 | head -n 1; nginx -v 2>&1')).stdout;
  labVersions = {
    keepalived: /Keepalived v(\d+(?:\.\d+)+)/.exec(v)?.[1],
    nginx: /nginx\/(\d+(?:\.\d+)+)/.exec(v)?.[1],
  };
});

/** What deploy should have written: the inventory rendered for the versions the hosts run. */
function rendered(inventory: string): Record<string, Record<string, string>> {
  const { inventory: inv } = loadInventory(inventory, { requireSecrets: true });
  return Object.fromEntries(
    inv.clusters.flatMap((c) =>
      c.lbs.map((lb) => {
        const r = renderHost(c, lb, labVersions);
        return [r.lb.name, Object.fromEntries(r.files.map((f) => [f.path, f.sha256]))];
      }),
    ),
  );
}

/* The inventories the tests move through; each builds on the previous one. */
const fewerBackends = (d: InventoryDoc) => {
  d.clusters[0].sites[0].backends = ['web1', 'web2'];
};
const lb2Priority = (d: InventoryDoc) => {
  fewerBackends(d);
  d.clusters[0].vips[0].priorities = { lb1: 150, lb2: 110 };
};
const generation = (n: number) => (d: InventoryDoc) => {
  lb2Priority(d);
  d.clusters[0].backends[0].weight = 3;
  d.clusters[0].sites[0].extra = [`add_header X-Deploy-Gen ${n} always`];
};

/**
 * Probe the VIP at 20 requests/s from before `work` starts until a second after it ends (old
 * nginx workers finish gracefully, VRRP settles): a deploy now takes well under a second, so
 * the probe must not end with it.
 */
async function probeWhile<T>(work: () => Promise<T>): Promise<{ result: T; probe: ProbeSummary }> {
  const p = startProbe({
    ip: vip(),
    port: 80,
    path: HEALTH,
    hostHeader: SITE,
    ratePerSec: 20,
    durationMs: 120_000,
    timeoutMs: 3000,
  });
  try {
    await new Promise((resolve) => setTimeout(resolve, 250));
    const result = await work();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    return { result, probe: summarizeProbe(await p.stop()) };
  } finally {
    await p.stop();
  }
}

const snap = () => snapshots(lab.state, LBS, FILES);
const fileModes = (s: HostSnapshot) =>
  Object.fromEntries(Object.entries(s.files).map(([p, f]) => [p, `${f.sha} ${f.mode}`]));

describe('hactl deploy on a fresh lab', () => {
  test('--dry-run changes nothing and prints the diffs with the VRRP password masked', async () => {
    const pass = String(parse(readFileSync(lab.state.files.inventory, 'utf8')).clusters[0].vrrp.auth.pass);
    expect(pass.length).toBeGreaterThan(3);
    const before = await snap();
    for (const h of LBS) expect(Object.values(before[h].files).map((f) => f.sha)).toEqual(FILES.map(() => 'absent'));

    const r = await deployCli(lab.state.files.inventory, '--dry-run');
    expect(said(r)).toMatchObject({ exit: 0 });
    expect(r.stdout).toMatch(/\+ {8}auth_pass \[REDACTED\]/);
    expect(r.stdout).toContain(`+    server ${lab.state.hosts.find((h) => h.name === 'web1')!.ip}:80;`);
    expect(r.stdout).toMatch(/dry run: nothing was changed/);
    expect(text(r)).not.toContain(pass);

    const j = await deployCli(lab.state.files.inventory, '--dry-run', '--json');
    expect(said(j)).toMatchObject({ exit: 0 });
    const json = jsonOf(j);
    expect(json).toMatchObject({ ok: true, dryRun: true, phase: 'plan' });
    const kaDiff = json.plans.find((p) => p.host === 'lb1')!.files.find((f) => f.path === PATHS.keepalivedConf)!.diff;
    expect(kaDiff).toContain('auth_pass [REDACTED]');
    expect(j.stdout).not.toContain(pass);

    expect(await snap()).toEqual(before);
  }, 60_000);

  test('without a terminal and without --yes it refuses (exit 2) and changes nothing', async () => {
    const before = await snap();
    const r = await deployCli(lab.state.files.inventory);
    expect(said(r)).toMatchObject({ exit: 2 });
    expect(r.stderr).toMatch(/no terminal to confirm.*--yes/);
    const after = await snap();
    for (const h of LBS) expect(after[h].files).toEqual(before[h].files);
    expect(after.lb1.keepalived).toEqual([]);
    expect(after.lb1.nginxMaster).toBeUndefined();
  }, 60_000);

  test('on a terminal without --yes it shows the plan, asks, and a "no" changes nothing', async () => {
    const before = await snap();
    // script(1) gives the CLI a pseudo-terminal; answer the prompt once it is shown.
    const child = execa(
      'script',
      ['-qec', `node ${sh([BIN, 'deploy', '--inventory', lab.state.files.inventory])}`, '/dev/null'],
      {
        reject: false,
        timeout: 90_000,
        env: { ...process.env, NO_COLOR: '1', SSH_AUTH_SOCK: '' },
        stdin: 'pipe',
      },
    );
    let out = '';
    let answered = false;
    child.stdout!.on('data', (b: Buffer) => {
      out += String(b);
      if (!answered && out.includes('Apply these changes?')) {
        answered = true;
        child.stdin!.write('n\r');
      }
    });
    const r = await child;
    expect({ answered, exit: r.exitCode, tail: out.slice(-1500) }).toMatchObject({ answered: true, exit: 1 });
    expect(out).toMatch(/auth_pass \[REDACTED\]/);
    expect(out).toMatch(/not confirmed; nothing was changed/);
    const after = await snap();
    for (const h of LBS) expect(after[h].files).toEqual(before[h].files);
    expect(after.lb1.nginxMaster).toBeUndefined();
  }, 90_000);

  test('cold deploy: the site answers through the VIP with the backend pages, the VIP is on its master', async () => {
    const r = await deployCli(lab.state.files.inventory, '--yes', '--json');
    expect(said(r)).toMatchObject({ exit: 0 });
    const j = jsonOf(r);
    expect(j).toMatchObject({ ok: true, phase: 'done', aborted: false });
    for (const h of LBS) {
      expect(hostOf(j, h)).toMatchObject({ status: 'changed', error: null });
      expect(hostOf(j, h).filesChanged.sort()).toEqual([...FILES].sort());
      expect(hostOf(j, h).servicesStarted.sort()).toEqual(['keepalived', 'nginx']);
    }
    expect(j.checks.filter((c) => !c.ok)).toEqual([]);
    console.log(
      `cold deploy: ${r.ms} ms wall (core ${j.durationMs} ms); round trips ${j.hosts.map((h) => `${h.host}=${h.roundTrips}`).join(' ')}; ` +
        `timings ${j.hosts.map((h) => `${h.host}=${JSON.stringify(h.timings)}`).join(' ')}`,
    );

    await waitForVip(lab.state, vip(), ['lb1'], 20_000);
    const want = rendered(lab.state.files.inventory);
    const after = await snap();
    for (const h of LBS) {
      expect(hashes(after[h])).toEqual(want[h]);
      expect(after[h].files[PATHS.keepalivedConf].mode).toBe('600:root:root');
      expect(after[h].nginxMaster).toBeDefined();
      expect(after[h].keepalived.length).toBeGreaterThan(0);
      expect((await inHost(lab.state, h, 'cat /proc/sys/net/ipv4/ip_nonlocal_bind')).stdout.trim()).toBe('1');
    }
    const through = await backendsThroughVip(vip(), SITE, HEALTH, ['web1', 'web2', 'web3']);
    expect(through.failures).toEqual([]);
    expect([...through.seen].sort()).toEqual(['web1', 'web2', 'web3']);
    for (const b of through.bodies)
      expect(b).toMatch(new RegExp(`^backend=web[123] host=${SITE.replace(/\./g, '\\.')} uri=${HEALTH}\\n$`));
  }, 90_000);

  test('a second deploy is a no-op: nothing written, nothing reloaded, says so, exit 0', async () => {
    const before = await snap();
    const r = await deployCli(lab.state.files.inventory, '--yes');
    expect(said(r)).toMatchObject({ exit: 0 });
    expect(r.stdout).toMatch(/nothing to change on 2 host\(s\)/);
    expect(r.stdout.match(/unchanged +up to date/g)).toHaveLength(2);

    const j = await deployCli(lab.state.files.inventory, '--yes', '--json');
    expect(said(j)).toMatchObject({ exit: 0 });
    const json = jsonOf(j);
    expect(json.ok).toBe(true);
    for (const h of LBS)
      expect(hostOf(json, h)).toMatchObject({
        status: 'unchanged',
        filesChanged: [],
        servicesReloaded: [],
        servicesStarted: [],
        packagesInstalled: [],
        roundTrips: 1,
      });
    expect(json.checks.filter((c) => !c.ok)).toEqual([]);
    console.log(
      `no-op deploy: ${r.ms} ms wall (plain), ${j.ms} ms wall (--json, core ${json.durationMs} ms); round trips ${json.hosts.map((h) => `${h.host}=${h.roundTrips}`).join(' ')}; ` +
        `timings ${json.hosts.map((h) => `${h.host}=${JSON.stringify(h.timings)}`).join(' ')}`,
    );

    // Nothing to confirm, so no --yes is needed either.
    const n = await deployCli(lab.state.files.inventory);
    expect(said(n)).toMatchObject({ exit: 0 });

    // Same inodes, mtimes and ctimes; same keepalived and nginx processes, no reload (same workers).
    expect(await snap()).toEqual(before);
  }, 90_000);
});

describe('hactl deploy of changes', () => {
  test('changing only the backends reloads nginx only', async () => {
    const inv = inventoryVariant(lab.state, 'fewer-backends', fewerBackends);
    const before = await snap();
    const r = await deployCli(inv, '--yes', '--json');
    expect(said(r)).toMatchObject({ exit: 0 });
    const j = jsonOf(r);
    for (const h of LBS)
      expect(hostOf(j, h)).toMatchObject({
        status: 'changed',
        filesChanged: [NGINX_CONF],
        servicesReloaded: ['nginx'],
        servicesStarted: [],
      });

    const after = await snap();
    for (const h of LBS) {
      expect(after[h].keepalived).toEqual(before[h].keepalived);
      for (const f of FILES.filter((x) => x !== NGINX_CONF)) expect(after[h].files[f]).toEqual(before[h].files[f]);
      expect(after[h].files[NGINX_CONF].sha).not.toBe(before[h].files[NGINX_CONF].sha);
      expect(after[h].nginxMaster).toBe(before[h].nginxMaster);
      await waitForNewWorkers(lab.state, h, FILES, before[h].nginxWorkers);
    }
    const through = await backendsThroughVip(vip(), SITE, HEALTH, ['web1', 'web2', 'web3'], 30);
    expect(through.failures).toEqual([]);
    expect([...through.seen].sort()).toEqual(['web1', 'web2']);
  }, 90_000);

  test('changing only VRRP settings (a priority) reloads keepalived only, on that host only', async () => {
    const inv = inventoryVariant(lab.state, 'lb2-priority', lb2Priority);
    expect((await runningVrrp(lab.state, 'lb2')).priority).toBe(100);
    const before = await snap();
    const r = await deployCli(inv, '--yes', '--json');
    expect(said(r)).toMatchObject({ exit: 0 });
    const j = jsonOf(r);
    expect(hostOf(j, 'lb1')).toMatchObject({ status: 'unchanged', filesChanged: [], servicesReloaded: [] });
    expect(hostOf(j, 'lb2')).toMatchObject({
      status: 'changed',
      filesChanged: [PATHS.keepalivedConf],
      servicesReloaded: ['keepalived'],
    });

    const after = await snap();
    expect(after.lb1).toEqual(before.lb1);
    expect(after.lb2.nginxWorkers).toEqual(before.lb2.nginxWorkers);
    expect(after.lb2.files[NGINX_CONF]).toEqual(before.lb2.files[NGINX_CONF]);
    expect(after.lb2.files[PATHS.keepalivedConf].sha).toBe(rendered(inv).lb2[PATHS.keepalivedConf]);
    // keepalived really runs with the new priority (a reload, not a restart: same processes).
    await waitFor(async () => (await runningVrrp(lab.state, 'lb2')).priority === 110, {
      timeoutMs: 15_000,
      intervalMs: 300,
      what: 'keepalived on lb2 running priority 110',
    });
    expect(after.lb2.keepalived).toEqual(before.lb2.keepalived);
    await waitForVip(lab.state, vip(), ['lb1'], 15_000);
  }, 90_000);

  test('a change that fails nginx -t leaves every file byte-identical, reloads nothing, exits non-zero with the validator message, and the VIP keeps serving', async () => {
    const inv = inventoryVariant(lab.state, 'bad-extra', (d) => {
      lb2Priority(d);
      d.clusters[0].sites[0].extra = ['hactl_no_such_directive on'];
    });
    const before = await snap();
    const { result: r, probe } = await probeWhile(() => deployCli(inv, '--yes'));
    expect(said(r)).toMatchObject({ exit: 1 });
    expect(text(r)).toMatch(/nginx -t failed/);
    expect(text(r)).toMatch(/unknown directive "hactl_no_such_directive"/);
    expect(text(r)).toMatch(/previous files were restored/);

    const after = await snap();
    for (const h of LBS) {
      expect(fileModes(after[h])).toEqual(fileModes(before[h]));
      expect(after[h].keepalived).toEqual(before[h].keepalived);
      expect(after[h].nginxMaster).toBe(before[h].nginxMaster);
      expect(after[h].nginxWorkers).toEqual(before[h].nginxWorkers);
    }
    // The master was never touched: the rollout stopped at the backup.
    expect(after.lb1).toEqual(before.lb1);
    // No staging or restore leftovers next to the live files, no transaction left behind.
    const left = await inHost(
      lab.state,
      'lb2',
      'ls -d /etc/keepalived/*.hactl-* /etc/nginx/conf.d/*.hactl-* /etc/sysctl.d/*.hactl-* /var/lib/hactl/txn.* 2>/dev/null; true',
    );
    expect(left.stdout.trim()).toBe('');
    expect(probe.sent).toBeGreaterThan(10);
    expect({ failed: probe.failed, errors: probe.errors }).toEqual({ failed: 0, errors: {} });
  }, 90_000);

  test('a rolling deploy of a real change while probing the VIP at 20 requests/s loses no request', async () => {
    const inv = inventoryVariant(lab.state, 'gen1', generation(1));
    const { result: r, probe } = await probeWhile(() => deployCli(inv, '--yes', '--json'));
    expect(said(r)).toMatchObject({ exit: 0 });
    const j = jsonOf(r);
    for (const h of LBS) expect(hostOf(j, h)).toMatchObject({ status: 'changed', servicesReloaded: ['nginx'] });
    expect(probe.sent).toBeGreaterThan(20);
    expect({ failed: probe.failed, errors: probe.errors }).toEqual({ failed: 0, errors: {} });

    const want = rendered(inv);
    const after = await snap();
    for (const h of LBS) expect(hashes(after[h])).toEqual(want[h]);
    const g = await httpGet({ ip: vip(), port: 80, host: SITE, path: HEALTH, timeoutMs: 3000 });
    expect(g.headers['x-deploy-gen']).toBe('1');
  }, 120_000);
});

describe('hactl deploy removes what it no longer renders', () => {
  test('a hactl nginx file of a renamed cluster (clashing upstream) is removed in the same validated transaction', async () => {
    const inv = inventoryVariant(lab.state, 'gen1b', generation(1));
    const stale = '/etc/nginx/conf.d/hactl-oldname.conf';
    expect(said(await deployCli(inv, '--yes'))).toMatchObject({ exit: 0 });
    // The old cluster's file defines the same upstream: left in place, nginx -t would fail.
    const put = await inHost(lab.state, 'lb2', `cp ${NGINX_CONF} ${stale}; nginx -t 2>&1 || true`);
    expect(put.stdout).toMatch(/duplicate upstream/);
    const r = await deployCli(inv, '--yes', '--json');
    expect(said(r)).toMatchObject({ exit: 0 });
    const j = jsonOf(r);
    expect(hostOf(j, 'lb2')).toMatchObject({ status: 'changed', filesChanged: [stale], servicesReloaded: ['nginx'] });
    expect(hostOf(j, 'lb1')).toMatchObject({ status: 'unchanged' });
    const after = await inHost(
      lab.state,
      'lb2',
      `test -e ${stale} && echo present || echo gone; nginx -t 2>&1; ls /var/lib/hactl/backups/*/etc/nginx/conf.d/ | grep -c hactl-oldname`,
    );
    expect(after.stdout).toMatch(/^gone$/m);
    expect(after.stdout).toMatch(/test is successful/);
    expect(after.stdout).toMatch(/^1$/m);
  }, 120_000);
});

describe('hactl deploy refuses unsafe situations, changing nothing', () => {
  const next = () => inventoryVariant(lab.state, 'gen2', generation(2));
  let keyDir: string;
  beforeAll(() => {
    keyDir = mkdtempSync(join(tmpdir(), 'hactl-e2e-keys-'));
  });
  afterAll(() => rmSync(keyDir, { recursive: true, force: true }));

  function otherKey(type: string): string {
    const t = type === 'ssh-rsa' ? 'rsa' : type.startsWith('ecdsa') ? 'ecdsa' : 'ed25519';
    const file = join(keyDir, `k-${t}-${Math.random().toString(36).slice(2)}`);
    execFileSync('ssh-keygen', ['-q', '-t', t, '-N', '', '-f', file]);
    return readFileSync(`${file}.pub`, 'utf8').split(' ')[1];
  }

  async function expectNothingChanged(run: () => Promise<CliResult>): Promise<CliResult> {
    const before = await snap();
    const r = await run();
    expect(await snap()).toEqual(before);
    return r;
  }

  test('a changed host key is refused, showing both fingerprints', async () => {
    const lb1 = lab.state.hosts.find((h) => h.name === 'lb1')!;
    const real = readFileSync(lab.state.files.knownHosts, 'utf8').split('\n').filter(Boolean);
    const fake: string[] = [];
    const lines = real.map((l) => {
      const [host, type] = l.split(' ');
      if (host !== lb1.ip) return l;
      const k = otherKey(type);
      fake.push(fingerprint(Buffer.from(k, 'base64')));
      return `${host} ${type} ${k}`;
    });
    const kh = join(scratchDir(), 'known_hosts-changed');
    writeFileSync(kh, lines.join('\n') + '\n');
    const inv = inventoryVariant(lab.state, 'changed-key', (d) => {
      generation(2)(d);
      d.ssh.known_hosts = kh;
      d.ssh.host_key_policy = 'accept-new';
    });
    const r = await expectNothingChanged(() => deployCli(inv, '--yes'));
    expect(said(r)).toMatchObject({ exit: 1 });
    expect(text(r)).toMatch(/REMOTE HOST IDENTIFICATION HAS CHANGED for 10\.[\d.]+/);
    expect(text(r)).toMatch(/preflight failed on lb1; nothing was changed on any host/);
    const realPrints = lb1.hostKeys.map((k) => fingerprint(Buffer.from(k.split(' ')[1], 'base64')));
    expect(realPrints.some((p) => text(r).includes(p))).toBe(true);
    expect(fake.some((p) => text(r).includes(p))).toBe(true);
    expect(readFileSync(kh, 'utf8')).toBe(lines.join('\n') + '\n'); // never accepted or recorded
  }, 60_000);

  test('an unknown host under strict is refused', async () => {
    const lb2 = lab.state.hosts.find((h) => h.name === 'lb2')!;
    const kh = join(scratchDir(), 'known_hosts-no-lb2');
    const content =
      readFileSync(lab.state.files.knownHosts, 'utf8')
        .split('\n')
        .filter((l) => l && !l.startsWith(`${lb2.ip} `))
        .join('\n') + '\n';
    writeFileSync(kh, content);
    const inv = inventoryVariant(lab.state, 'unknown-host', (d) => {
      generation(2)(d);
      d.ssh.known_hosts = kh;
      d.ssh.host_key_policy = 'strict';
    });
    const r = await expectNothingChanged(() => deployCli(inv, '--yes'));
    expect(said(r)).toMatchObject({ exit: 1 });
    expect(text(r)).toContain(`${lb2.ip} is not in ${kh} and host_key_policy is strict`);
    expect(text(r)).toMatch(/preflight failed on lb2; nothing was changed on any host/);
    expect(readFileSync(kh, 'utf8')).toBe(content);
  }, 60_000);

  test('an unreachable host fails preflight and nothing changes on the others', async () => {
    const nobody = lab.state.subnet.split('/')[0].replace(/\.\d+$/, '.99');
    const inv = inventoryVariant(lab.state, 'unreachable', (d) => {
      generation(2)(d);
      d.clusters[0].load_balancers.push({ name: 'lb3', address: nobody, ssh: { connect_timeout: 3 } });
      d.clusters[0].vips[0].priorities.lb3 = 90;
    });
    const r = await expectNothingChanged(() => deployCli(inv, '--yes'));
    expect(said(r)).toMatchObject({ exit: 1 });
    expect(text(r)).toMatch(/preflight failed on lb3; nothing was changed on any host/);
    expect(text(r)).toContain(nobody);
  }, 60_000);

  test('a deploy is refused while another holds the lock, naming the holder; a dead holder is reported as stale', async () => {
    const holder = 'alice@laptop (hactl pid 4242) since 2026-01-01T00:00:00.000Z';
    await inHost(
      lab.state,
      'lb1',
      `mkdir -p /var/lib/hactl && rm -f /run/e2e-lock.pid && setsid sh -c 'exec 9>>/var/lib/hactl/deploy.lock; flock 9; printf "%s\\n" "${holder}" > /var/lib/hactl/deploy.lock.holder; echo $$ > /run/e2e-lock.pid; exec sleep 300' </dev/null >/dev/null 2>&1 &`,
    );
    const killHolder = () =>
      inHost(lab.state, 'lb1', '[ -s /run/e2e-lock.pid ] && kill "$(cat /run/e2e-lock.pid)"; rm -f /run/e2e-lock.pid', {
        check: false,
      });
    try {
      await waitFor(
        async () =>
          (
            await inHost(lab.state, 'lb1', '[ -s /run/e2e-lock.pid ] && ! flock -n /var/lib/hactl/deploy.lock true', {
              check: false,
            })
          ).exitCode === 0,
        { timeoutMs: 10_000, intervalMs: 100, what: 'the test lock holder on lb1' },
      );
      const r = await expectNothingChanged(() => deployCli(next(), '--yes'));
      expect(said(r)).toMatchObject({ exit: 1 });
      expect(text(r)).toContain(`another deploy holds the lock: ${holder}`);
      expect(text(r)).toMatch(/preflight failed on lb1; nothing was changed on any host/);
    } finally {
      await killHolder();
    }
    // The holder died without cleaning up: the next deploy takes over and says so.
    const r = await deployCli(next(), '--yes', '--json');
    expect(said(r)).toMatchObject({ exit: 0 });
    const j = jsonOf(r);
    expect(hostOf(j, 'lb1').staleLock).toContain('alice@laptop');
    expect(hostOf(j, 'lb2').staleLock).toBeNull();
    for (const h of LBS) expect(hostOf(j, h).status).toBe('changed');
    for (const h of LBS)
      await waitFor(
        async () =>
          (
            await inHost(
              lab.state,
              h,
              'flock -n /var/lib/hactl/deploy.lock true && ! [ -s /var/lib/hactl/deploy.lock.holder ]',
              { check: false },
            )
          ).exitCode === 0,
        { timeoutMs: 10_000, intervalMs: 200, what: `the deploy lock on ${h} to be free, its holder note removed` },
      );
  }, 90_000);

  test("hactl's own lock holds for as long as its channel is open, refuses a concurrent deploy, and is freed at once on release", async () => {
    const { inventory: inv } = loadInventory(lab.state.files.inventory, { requireSecrets: true });
    const render = renderHost(inv.clusters[0], inv.clusters[0].lbs[0], labVersions);
    const t = await sshConnector({ sshConfigPath: '/dev/null' })(render.lb);
    const heldBy = 'bob@ops (hactl pid 5151) since 2026-02-02T00:00:00.000Z';
    const isFree = async () =>
      (await inHost(lab.state, 'lb1', 'flock -n /var/lib/hactl/deploy.lock true', { check: false })).exitCode === 0;
    try {
      const lock = await lockAndReadFacts(t, render, heldBy);
      expect(lock.facts.running.keepalived).toBe(true);
      // Still held well after the facts were read: nothing but our open channel keeps it.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(await isFree()).toBe(false);
      const r = await expectNothingChanged(() => deployCli(next(), '--yes'));
      expect(said(r)).toMatchObject({ exit: 1 });
      expect(text(r)).toContain(`another deploy holds the lock: ${heldBy}`);
      await lock.release();
      await waitFor(
        async () =>
          (await isFree()) &&
          (await inHost(lab.state, 'lb1', '! [ -s /var/lib/hactl/deploy.lock.holder ]', { check: false })).exitCode ===
            0,
        {
          timeoutMs: 2_000,
          intervalMs: 50,
          what: 'the lock on lb1 to be free, its holder note removed, right after release',
        },
      );
    } finally {
      await t.close();
    }
  }, 60_000);
});

describe('hactl deploy as a non-root user, and interrupted', () => {
  test('a non-root user with passwordless sudo deploys (root cannot log in meanwhile)', async () => {
    const inv = inventoryVariant(lab.state, 'sudo', (d) => {
      generation(3)(d);
      d.ssh.user = lab.state.nonRootUser;
    });
    const hide = 'mv /root/.ssh/authorized_keys /root/.ssh/authorized_keys.e2e';
    const restore =
      '[ -e /root/.ssh/authorized_keys.e2e ] && mv /root/.ssh/authorized_keys.e2e /root/.ssh/authorized_keys; true';
    let r: CliResult;
    try {
      for (const h of LBS) await inHost(lab.state, h, hide);
      r = await deployCli(inv, '--yes', '--json');
    } finally {
      for (const h of LBS) await inHost(lab.state, h, restore);
    }
    expect(said(r)).toMatchObject({ exit: 0 });
    for (const h of LBS) expect(hostOf(jsonOf(r), h)).toMatchObject({ status: 'changed', servicesReloaded: ['nginx'] });
    const want = rendered(inv);
    const after = await snap();
    for (const h of LBS) {
      expect(hashes(after[h])).toEqual(want[h]);
      expect(after[h].files[NGINX_CONF].mode).toBe('644:root:root');
      expect(after[h].files[PATHS.keepalivedConf].mode).toBe('600:root:root');
    }
    const g = await httpGet({ ip: vip(), port: 80, host: SITE, path: HEALTH, timeoutMs: 3000 });
    expect(g.headers['x-deploy-gen']).toBe('3');
  }, 90_000);

  test('SIGINT during the rollout leaves each host on its old or its new files and releases the locks', async () => {
    const oldInv = inventoryVariant(lab.state, 'sudo-root', generation(3));
    const inv = inventoryVariant(lab.state, 'gen4', generation(4));
    const oldSet = rendered(oldInv);
    const newSet = rendered(inv);
    const child = startHactl(['deploy', '--inventory', inv, '--yes']);
    let err = '';
    child.stderr!.on('data', (b: Buffer) => {
      err += String(b);
      if (/\[lab1\/lb2\] applying/.test(err) && !child.killed) child.kill('SIGINT');
    });
    const r = await child;
    expect({ exit: r.exitCode, err: String(r.stderr).slice(-3000) }).toMatchObject({ exit: 130 });
    expect(String(r.stdout)).toMatch(/rollout interrupted; every host is on its previous or its new configuration/);

    const after = await snap();
    const onOld = (h: string) => JSON.stringify(hashes(after[h])) === JSON.stringify(oldSet[h]);
    const onNew = (h: string) => JSON.stringify(hashes(after[h])) === JSON.stringify(newSet[h]);
    for (const h of LBS) expect({ host: h, oldOrNew: onOld(h) || onNew(h) }).toEqual({ host: h, oldOrNew: true });
    expect(onNew('lb2')).toBe(true); // the host in flight finished its transaction
    expect(onOld('lb1')).toBe(true); // the master was not started
    for (const h of LBS)
      await waitFor(
        async () =>
          (await inHost(lab.state, h, 'flock -n /var/lib/hactl/deploy.lock true', { check: false })).exitCode === 0,
        { timeoutMs: 10_000, intervalMs: 200, what: `the deploy lock on ${h} to be released` },
      );

    // The rollout can simply be resumed.
    const again = await deployCli(inv, '--yes', '--json');
    expect(said(again)).toMatchObject({ exit: 0 });
    expect(hostOf(jsonOf(again), 'lb2').status).toBe('unchanged');
    expect(hostOf(jsonOf(again), 'lb1').status).toBe('changed');
    await waitForVip(lab.state, vip(), ['lb1'], 15_000);
  }, 120_000);

  test("a connection dropped during a host's apply stops the rollout; that host ends on its old or new files, the lock is released", async () => {
    const oldSet = rendered(inventoryVariant(lab.state, 'gen4-again', generation(4)));
    const inv = inventoryVariant(lab.state, 'gen5', generation(5));
    const newSet = rendered(inv);
    // Inside lb2: as soon as an apply transaction exists, kill every root SSH session (the [s] keeps pkill off itself).
    await inHost(
      lab.state,
      'lb2',
      `rm -f /run/e2e-drop; setsid sh -c 'i=0; while [ $i -lt 6000 ]; do if ls -d /var/lib/hactl/txn.* >/dev/null 2>&1; then pkill -f "[s]shd: root"; echo dropped > /run/e2e-drop; exit 0; fi; i=$((i+1)); sleep 0.01; done' </dev/null >/dev/null 2>&1 &`,
    );
    const r = await deployCli(inv, '--yes');
    await inHost(lab.state, 'lb2', 'pkill -f "[w]hile \\[ \\$i -lt 6000"', { check: false });
    expect((await inHost(lab.state, 'lb2', 'cat /run/e2e-drop', { check: false })).stdout.trim()).toBe('dropped');
    expect(said(r)).toMatchObject({ exit: 1 });
    expect(text(r)).toMatch(/lb2: the connection to .* was lost/);
    expect(text(r)).toMatch(/rollout failed on lb2/);

    // The transaction on lb2 runs to its end without us; then no half state remains.
    for (const h of LBS)
      await waitFor(
        async () =>
          (
            await inHost(
              lab.state,
              h,
              '! ls -d /var/lib/hactl/txn.* >/dev/null 2>&1 && flock -n /var/lib/hactl/deploy.lock true',
              { check: false },
            )
          ).exitCode === 0,
        { timeoutMs: 20_000, intervalMs: 200, what: `no apply in flight and the deploy lock free on ${h}` },
      );
    const after = await snap();
    const same = (h: string, set: Record<string, Record<string, string>>) =>
      JSON.stringify(hashes(after[h])) === JSON.stringify(set[h]);
    expect({ lb2OldOrNew: same('lb2', oldSet) || same('lb2', newSet), lb1Old: same('lb1', oldSet) }).toEqual({
      lb2OldOrNew: true,
      lb1Old: true,
    });

    const again = await deployCli(inv, '--yes', '--json');
    expect(said(again)).toMatchObject({ exit: 0 });
    expect(hostOf(jsonOf(again), 'lb1').status).toBe('changed');
    const final = await snap();
    for (const h of LBS) expect(hashes(final[h])).toEqual(newSet[h]);
  }, 120_000);
});
