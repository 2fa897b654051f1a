/**
 * hactl on lab hosts that are real Debian installations (debootstrap roots, issue 12): the
 * first deploy on a new server of each release installs keepalived and nginx from the lab's
 * package repository and serves the site; a cluster whose nodes run different releases
 * deploys, verifies and fails over both ways; a package install that fails changes nothing
 * further; an IPv6 VIP (VRRPv3) deploys and moves; nginx built under its own prefix works.
 */
import { execa } from 'execa';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deployCli, hostOf, inventoryVariant, jsonOf } from './helpers/deploy.js';
import { inHost } from './helpers/host.js';
import { useLab } from './helpers/lab.js';
import { vipHolders, waitForVip } from './helpers/vrrp.js';
import { backendsThroughVip } from './helpers/deploy.js';

const ROOT = join(fileURLToPath(import.meta.url), '../../..');

async function cli(args: string[], timeoutMs = 240_000) {
  const r = await execa('node', [join(ROOT, 'bin/run.js'), ...args], {
    reject: false,
    timeout: timeoutMs,
    env: { NO_COLOR: '1' },
    cwd: ROOT,
  });
  return { code: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}

type VerifyDoc = {
  ok: boolean;
  checks: { kind: string; target: string; ok: boolean; detail: string; warning?: boolean }[];
};

const versions = async (lab: ReturnType<typeof useLab>, host: string) =>
  (await inHost(lab.state, host, "dpkg-query -W -f='${Status} ${Version}\\n' keepalived nginx")).stdout;

describe.each(['debian-11', 'debian-12', 'debian-13'] as const)('a new %s server (no keepalived, no nginx)', (os) => {
  const lab = useLab({ os, packages: 'none', backends: 2, upTimeoutMs: 600_000 });

  test('the first deploy installs both from the repository, serves the site, and the second deploy is a no-op', async () => {
    const [lb1] = lab.lbs();
    expect((await inHost(lab.state, lb1.name, 'command -v keepalived nginx || echo none')).stdout).toBe('none\n');
    const first = await deployCli(lab.state.files.inventory, '--yes', '--json');
    const j = jsonOf(first);
    expect({ ok: j.ok, message: j.message, stderr: j.ok ? '' : first.stderr }).toMatchObject({ ok: true });
    for (const lb of lab.lbs()) {
      expect(hostOf(j, lb.name).packagesInstalled).toEqual(expect.arrayContaining(['keepalived', 'nginx']));
      expect(await versions(lab, lb.name)).toMatch(/^install ok installed \S+\ninstall ok installed \S+\n$/);
      // The packaged default site is gone; its file stays in sites-available for the operator.
      expect((await inHost(lab.state, lb.name, 'ls /etc/nginx/sites-enabled/ | wc -l')).stdout.trim()).toBe('0');
    }
    const vip = lab.state.clusters[0].vips[0];
    await waitForVip(lab.state, vip.ip, [vip.master], 20_000);
    expect(
      (await backendsThroughVip(vip.ip, lab.state.serverName, lab.state.healthPath, ['web1', 'web2'])).seen.size,
    ).toBe(2);
    const again = jsonOf(await deployCli(lab.state.files.inventory, '--yes', '--json'));
    expect(again.hosts.map((h) => h.status)).toEqual(lab.lbs().map(() => 'unchanged'));
    expect(again.hosts.every((h) => h.roundTrips === 1)).toBe(true);
    // keepalived -t and nginx -t of this release accept what hactl rendered for it.
    for (const lb of lab.lbs()) {
      await inHost(lab.state, lb.name, 'keepalived -t -f /etc/keepalived/keepalived.conf && nginx -t 2>/dev/null');
      const conf = (await inHost(lab.state, lb.name, 'cat /etc/keepalived/keepalived.conf')).stdout;
      // keepalived 2.2+ (Debian 12, 13) gets reload_check_config; 2.1.5 (Debian 11) must not.
      expect(conf.includes('reload_check_config')).toBe(os !== 'debian-11');
    }
  }, 300_000);
});

describe('a cluster whose nodes run different releases (debian-11 and debian-13)', () => {
  const lab = useLab({ os: 'mixed', packages: 'none', backends: 2, upTimeoutMs: 600_000 });

  test('deploys, verify warns that versions differ (and passes), failover moves the VIP both ways for each fault', async () => {
    const j = jsonOf(await deployCli(lab.state.files.inventory, '--yes', '--json'));
    expect(j.ok).toBe(true);
    const v = await cli(['verify', '-i', lab.state.files.inventory, '--json']);
    const doc = JSON.parse(v.stdout) as VerifyDoc;
    expect(v.code).toBe(0);
    const kv = doc.checks.find((c) => c.kind === 'versions' && c.target === 'keepalived');
    expect(kv).toMatchObject({
      ok: true,
      warning: true,
      detail: expect.stringMatching(/lb1 2\.1\.5, lb2 2\.3\.3.*versions differ/),
    });
    const vip = lab.state.clusters[0].vips[0];
    for (const fault of ['stop-nginx', 'stop-keepalived', 'kill-keepalived']) {
      const r = await cli(['failover-test', '-i', lab.state.files.inventory, '--fault', fault, '--yes', '--json']);
      const report = JSON.parse(r.stdout) as {
        ok: boolean;
        faults: { newMaster: string; pass: boolean; reasons: string[] }[];
      };
      expect({ fault, ok: report.ok, reasons: report.faults[0]?.reasons }).toEqual({ fault, ok: true, reasons: [] });
      expect(report.faults[0].newMaster).toBe('lb2'); // debian-11 master → debian-13 backup
      expect(await vipHolders(lab.state, vip.ip)).toEqual(['lb1']); // and back by preemption
    }
  }, 600_000);
});

describe('a package install that fails', () => {
  const lab = useLab({ packages: 'none', backends: 1, upTimeoutMs: 600_000 });

  test("fails that host with apt's own message, changes none of its files, and the host after it is not reached", async () => {
    expect(jsonOf(await deployCli(lab.state.files.inventory, '--yes', '--json')).ok).toBe(true);
    // The cluster now serves. lb2 (the backup, first in the rollout) loses keepalived and its package source.
    await inHost(
      lab.state,
      'lb2',
      "service keepalived stop >/dev/null 2>&1; i=0; while pidof keepalived >/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done; DEBIAN_FRONTEND=noninteractive apt-get remove -y -q keepalived >/dev/null; rm -f /etc/apt/sources.list.d/*; echo 'deb [trusted=yes] file:/nonexistent ./' > /etc/apt/sources.list.d/hactl-lab.list; rm -rf /var/lib/apt/lists/*",
    );
    const before = (await inHost(lab.state, 'lb2', 'sha256sum /etc/nginx/conf.d/hactl-*.conf')).stdout;
    const inv = inventoryVariant(lab.state, 'weights', (d) => {
      d.clusters[0].backends[0].weight = 5;
    });
    const r = await deployCli(inv, '--yes', '--json');
    const j = jsonOf(r);
    expect(r.exitCode).toBe(1);
    expect(hostOf(j, 'lb2').error).toMatch(/installing packages failed; no file was changed/);
    expect(hostOf(j, 'lb2').error).toMatch(/E: /);
    expect(hostOf(j, 'lb1').status).toBe('skipped');
    expect((await inHost(lab.state, 'lb2', 'sha256sum /etc/nginx/conf.d/hactl-*.conf')).stdout).toBe(before);
    expect((await inHost(lab.state, 'lb1', 'cat /etc/nginx/conf.d/hactl-*.conf')).stdout).not.toContain('weight=5');
  }, 300_000);
});

describe('an IPv6 VIP (VRRPv3) beside the IPv4 one, and nginx built under its own prefix', () => {
  const lab = useLab({ ipv6: true, nginx: 'prefix', packages: 'none', backends: 2, upTimeoutMs: 600_000 });

  test('deploys without installing the nginx package, verify passes, failover-test moves the IPv6 VIP', async () => {
    const j = jsonOf(await deployCli(lab.state.files.inventory, '--yes', '--json'));
    expect({ ok: j.ok, message: j.message }).toMatchObject({ ok: true });
    for (const lb of lab.lbs()) {
      expect(hostOf(j, lb.name).packagesInstalled).toEqual(['keepalived']);
      expect((await inHost(lab.state, lb.name, 'ls /app/nginx/conf/conf.d/')).stdout).toMatch(/hactl-lab1\.conf/);
      expect((await inHost(lab.state, lb.name, 'test -e /etc/nginx && echo yes || echo no')).stdout).toBe('no\n');
    }
    const v = await cli(['verify', '-i', lab.state.files.inventory, '--json']);
    const doc = JSON.parse(v.stdout) as VerifyDoc;
    expect({ code: v.code, failed: doc.checks.filter((c) => !c.ok) }).toEqual({ code: 0, failed: [] });
    const v6 = lab.state.clusters[0].vips.find((x) => x.ip.includes(':'));
    expect(v6).toBeDefined();
    const r = await cli([
      'failover-test',
      '-i',
      lab.state.files.inventory,
      '--vip',
      v6!.name,
      '--fault',
      'stop-nginx',
      '--yes',
      '--json',
    ]);
    const report = JSON.parse(r.stdout) as { ok: boolean; faults: { newMaster: string; reasons: string[] }[] };
    expect({ ok: report.ok, reasons: report.faults[0]?.reasons }).toEqual({ ok: true, reasons: [] });
    expect(report.faults[0].newMaster).toBe('lb2');
  }, 300_000);
});
