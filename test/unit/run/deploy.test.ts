/**
 * The deploy runner against sandbox hosts that run hactl's real scripts (facts, lock, apply,
 * health wait) under sh: order, idempotence, all-or-nothing preflight, rollback, locks.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { deploy, type DeployOptions } from '../../../src/run/deploy.js';
import { lockAndReadFacts } from '../../../src/run/host-ops.js';
import { renderInventory } from '../../../src/render/render.js';
import { deployJson } from '../../../src/ui/deploy-view.js';
import { fixturePath, loadValid } from '../../helpers/inventory.js';
import { Sandbox } from '../../helpers/sandbox.js';
import type { Inventory } from '../../../src/inventory/model.js';

const sandboxes: Sandbox[] = [];
afterEach(() => sandboxes.splice(0).forEach((s) => s.remove()));

function setup(fixture = 'active-passive.yaml') {
  const inv: Inventory = loadValid(fixturePath(fixture));
  const sb = Sandbox.forInventory(inv);
  sandboxes.push(sb);
  const opts = (over: Partial<DeployOptions> = {}): DeployOptions => ({
    connect: sb.connector(),
    http: sb.http(),
    verify: false,
    ...over,
  });
  return { inv, sb, opts };
}

describe('deploy (sandbox hosts)', () => {
  it('cold deploy changes every host, backups first, then is a no-op in one round trip per host', async () => {
    const { inv, sb, opts } = setup();
    const first = await deploy(inv, opts());
    expect(first.message).toMatch(/2 of 2 host/);
    expect(first.ok).toBe(true);
    expect(sb.applied()).toEqual(['lb2', 'lb1']);
    expect(first.hosts.map((h) => [h.host, h.status])).toEqual([
      ['lb1', 'changed'],
      ['lb2', 'changed'],
    ]);
    expect(first.hosts[0].servicesStarted).toEqual(['nginx', 'keepalived']);
    const lb1 = sb.host('lb1');
    expect(lb1.read('/etc/keepalived/keepalived.conf')).toContain('virtual_router_id 51');
    expect(lb1.read('/proc/sys/net/ipv4/ip_nonlocal_bind')?.trim()).toBe('1');
    expect(lb1.running('keepalived') && lb1.running('nginx')).toBe(true);

    const before = first.hosts.map((h) => h.roundTrips);
    const second = await deploy(inv, opts());
    expect(second.ok).toBe(true);
    expect(sb.applied()).toEqual(['lb2', 'lb1']);
    expect(second.hosts.every((h) => h.status === 'unchanged')).toBe(true);
    expect(second.message).toMatch(/nothing to change on 2 host/);
    expect(second.hosts.map((h, i) => h.roundTrips - before[i])).toEqual([1, 1]);
    // That one exec plans from the files and processes; nginx's status endpoint is for health
    // reads (the first deploy's waits read it), not for planning.
    const noop = lb1.calls.slice(before[0]);
    expect(noop).toHaveLength(1);
    expect(noop[0].script).not.toContain('/hactl-health');
    expect(lb1.calls.slice(0, before[0]).some((c) => c.script.includes('/hactl-health'))).toBe(true);
  });

  it('the post-deploy checks see one holder per VIP and the site answering through it', async () => {
    const { inv, opts } = setup();
    const r = await deploy(inv, opts({ verify: true }));
    expect(r.ok).toBe(true);
    expect(r.checks.map((c) => [c.kind, c.ok, c.detail.split(' (')[0]])).toEqual([
      ['vip', true, 'held by lb1'],
      ['site', true, '200 in 0.5 ms'],
    ]);
  });

  it('dual-master: each host masters one VIP; both change, one at a time', async () => {
    const { inv, sb, opts } = setup('dual-master.yaml');
    const r = await deploy(inv, opts());
    expect(r.ok).toBe(true);
    expect(sb.applied()).toHaveLength(2);
  });

  it('a changed backend list touches only the nginx file and reloads only nginx', async () => {
    const { inv, sb, opts } = setup();
    await deploy(inv, opts());
    inv.clusters[0].backends[0].port = 9090;
    const r = await deploy(inv, opts());
    expect(r.plans.map((p) => p.reload)).toEqual([['nginx'], ['nginx']]);
    expect(r.hosts[0].filesChanged).toEqual(['/etc/nginx/conf.d/hactl-web.conf']);
    expect(sb.host('lb1').read('/etc/nginx/conf.d/hactl-web.conf')).toContain('10.0.1.21:9090');
    expect(
      sb
        .host('lb1')
        .log()
        .filter((l) => l.startsWith('service nginx')),
    ).toEqual(['service nginx start', 'service nginx reload']);
  });

  it('dry run reads facts without the lock and changes nothing', async () => {
    const { inv, sb, opts } = setup();
    const r = await deploy(inv, opts({ dryRun: true }));
    expect(r.ok).toBe(true);
    expect(r.message).toMatch(/2 host\(s\) would change \(dry run/);
    expect(sb.applied()).toEqual([]);
    expect(sb.host('lb1').calls.some((c) => c.script.includes('flock'))).toBe(false);
    const diff = r.plans[0].files.find((f) => f.file.path.endsWith('keepalived.conf'))!.diff;
    expect(diff).toContain('auth_pass [REDACTED]');
    expect(JSON.stringify(deployJson(r))).not.toContain('s3cret');
  });

  it('a preflight failure on one host changes nothing anywhere', async () => {
    const { inv, sb, opts } = setup();
    sb.host('lb2').write('/.sandbox/addrs', 'ens4 inet 10.0.0.12/24\n');
    const r = await deploy(inv, opts());
    expect(r.ok).toBe(false);
    expect(r.phase).toBe('preflight');
    expect(r.message).toMatch(/nothing was changed on any host/);
    expect(r.hosts.find((h) => h.host === 'lb2')!.error).toMatch(
      /VRRP interface eth0 does not exist \(interfaces: ens4\)/,
    );
    expect(sb.applied()).toEqual([]);
  });

  it('a VIP outside the interface subnet fails preflight', async () => {
    const { inv, sb, opts } = setup();
    sb.host('lb1').write('/.sandbox/addrs', 'eth0 inet 172.16.0.5/24\n');
    const r = await deploy(inv, opts());
    expect(r.hosts.find((h) => h.host === 'lb1')!.error).toMatch(
      /VIP 10\.0\.0\.100\/24 is outside the subnets of eth0 \(172\.16\.0\.5\/24\)/,
    );
    expect(sb.applied()).toEqual([]);
  });

  it('an unreachable host fails preflight; the others are not touched', async () => {
    const { inv, sb, opts } = setup();
    sb.host('lb1').failWith('connect', 'lb1: connection refused');
    const r = await deploy(inv, opts());
    expect(r.phase).toBe('preflight');
    expect(r.hosts.find((h) => h.host === 'lb1')!.error).toMatch(/connection refused/);
    expect(sb.applied()).toEqual([]);
  });

  it('a validation failure restores the backup host byte for byte and stops the rollout before the master', async () => {
    const { inv, sb, opts } = setup();
    await deploy(inv, opts());
    const lb2 = sb.host('lb2');
    const good = lb2.read('/etc/nginx/conf.d/hactl-web.conf');
    inv.clusters[0].sites[0].extra = ['HACTL_INVALID'];
    const r = await deploy(inv, opts());
    expect(r.ok).toBe(false);
    expect(r.phase).toBe('apply');
    expect(sb.applied()).toEqual(['lb2', 'lb1', 'lb2']);
    const failed = r.hosts.find((h) => h.host === 'lb2')!;
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatch(/validation failed; the previous files were restored byte for byte/);
    expect(failed.error).toMatch(/unknown directive "HACTL_INVALID"/);
    expect(lb2.read('/etc/nginx/conf.d/hactl-web.conf')).toBe(good);
    expect(lb2.log().filter((l) => l === 'service nginx reload')).toEqual([]);
    expect(r.hosts.find((h) => h.host === 'lb1')!.status).toBe('skipped');
  });

  it('a held lock refuses the deploy and names the holder; released, it is free at once', async () => {
    const { inv, sb, opts } = setup();
    const render = renderInventory(inv).find((r) => r.lb.name === 'lb1')!;
    const held = await lockAndReadFacts(sb.host('lb1'), render, 'alice@laptop (hactl pid 42)');
    const r = await deploy(inv, opts());
    expect(r.phase).toBe('preflight');
    expect(r.hosts.find((h) => h.host === 'lb1')!.error).toMatch(
      /another deploy holds the lock: alice@laptop \(hactl pid 42\)/,
    );
    expect(sb.applied()).toEqual([]);
    await held.release();
    expect(sb.host('lb1').read('/var/lib/hactl/deploy.lock.holder')).toBeUndefined();
    expect((await deploy(inv, opts())).ok).toBe(true);
  });

  it('not confirmed: nothing changes', async () => {
    const { inv, sb, opts } = setup();
    const r = await deploy(inv, opts({ confirm: async () => false }));
    expect(r.phase).toBe('confirm');
    expect(sb.applied()).toEqual([]);
  });

  it('interrupted during the rollout: the host in flight finishes, the rest is skipped', async () => {
    const { inv, sb, opts } = setup();
    const ac = new AbortController();
    sb.host('lb2').beforeExec = (script) => {
      if (script.includes('apply.sh')) ac.abort();
    };
    const r = await deploy(inv, opts({ signal: ac.signal }));
    expect(sb.applied()).toEqual(['lb2']);
    expect(r.aborted).toBe(true);
    expect(r.hosts.find((h) => h.host === 'lb2')!.status).toBe('changed');
    expect(r.hosts.find((h) => h.host === 'lb1')!.status).toBe('skipped');
  });
});

describe('deploy on a new server (sandbox hosts without keepalived and nginx)', () => {
  it('installs first, renders for the installed versions, disables the packaged default site, starts both', async () => {
    const inv: Inventory = loadValid(fixturePath('active-passive.yaml'));
    const sb = Sandbox.forInventory(inv, () => ({ installed: [] }));
    sandboxes.push(sb);
    sb.host('lb1').write('/.sandbox/apt-lists-empty', '');
    const r = await deploy(inv, { connect: sb.connector(), http: sb.http(), verify: true });
    expect(r.message).toMatch(/2 of 2 host/);
    const lb1 = sb.host('lb1');
    expect(lb1.log().filter((l) => l.startsWith('apt-get'))).toEqual([
      'apt-get install -y -q --no-install-recommends keepalived nginx',
      'apt-get update -q',
      'apt-get install -y -q --no-install-recommends keepalived nginx',
    ]);
    // The stand-in keepalived is 2.2.7: the file is rendered for it.
    expect(lb1.read('/etc/keepalived/keepalived.conf')).toContain('reload_check_config');
    expect(lb1.read('/etc/nginx/sites-enabled/default')).toBeUndefined();
    expect(lb1.read('/etc/nginx/sites-available/default')).toBeDefined();
    expect(r.hosts[0]).toMatchObject({ packagesInstalled: ['keepalived', 'nginx'], status: 'changed' });
    expect(r.hosts[0].filesChanged).toContain('/etc/nginx/sites-enabled/default');
    const again = await deploy(inv, { connect: sb.connector(), http: sb.http(), verify: false });
    expect(again.hosts.every((h) => h.status === 'unchanged')).toBe(true);
  });

  it('the operator re-enabling the default site later is their business: a later deploy leaves it', async () => {
    const inv: Inventory = loadValid(fixturePath('active-passive.yaml'));
    const sb = Sandbox.forInventory(inv, () => ({ installed: [] }));
    sandboxes.push(sb);
    await deploy(inv, { connect: sb.connector(), http: sb.http(), verify: false });
    sb.host('lb1').write('/etc/nginx/sites-enabled/default', 'server { listen 8080; }\n');
    const r = await deploy(inv, { connect: sb.connector(), http: sb.http(), verify: false });
    expect(r.hosts.find((h) => h.host === 'lb1')?.status).toBe('unchanged');
    expect(sb.host('lb1').read('/etc/nginx/sites-enabled/default')).toBeDefined();
  });

  it('a failing install fails that host with apt-get its own words, writes no file, and stops a serving rollout', async () => {
    const inv: Inventory = loadValid(fixturePath('active-passive.yaml'));
    const sb = Sandbox.forInventory(inv);
    sandboxes.push(sb);
    await deploy(inv, { connect: sb.connector(), http: sb.http(), verify: false });
    // The cluster serves; lb2 (the backup, first in the rollout) lost keepalived and its package source.
    const lb2 = sb.host('lb2');
    rmSync(join(lb2.state, 'bin', 'keepalived'));
    await lb2.shell('service keepalived stop');
    lb2.write('/.sandbox/apt-broken', '');
    const before = lb2.read('/etc/nginx/conf.d/hactl-web.conf');
    inv.clusters[0].backends[0].port = 9090;
    const r = await deploy(inv, { connect: sb.connector(), http: sb.http(), verify: false });
    const failed = r.hosts.find((h) => h.host === 'lb2')!;
    expect(failed.error).toMatch(/installing packages failed; no file was changed/);
    expect(failed.error).toMatch(/E: Failed to fetch .* Could not connect/);
    expect(lb2.read('/etc/nginx/conf.d/hactl-web.conf')).toBe(before);
    expect(r.hosts.find((h) => h.host === 'lb1')?.status).toBe('skipped');
    expect(sb.host('lb1').read('/etc/nginx/conf.d/hactl-web.conf')).not.toContain('9090');
  });

  it('a cold cluster (nothing runs, no VIP held) is configured on every node at once', async () => {
    const inv: Inventory = loadValid(fixturePath('active-passive.yaml'));
    const sb = Sandbox.forInventory(inv, () => ({ installed: [] }));
    sandboxes.push(sb);
    const r = await deploy(inv, { connect: sb.connector(), http: sb.http(), verify: false });
    expect(r.ok).toBe(true);
    // Each host runs two transactions (install, then files); the master's start before the backup is done.
    const order = sb.applied();
    expect(order).toHaveLength(4);
    expect(order.indexOf('lb1')).toBeLessThan(order.lastIndexOf('lb2'));
  });
});

describe('deploy with nginx built under its own prefix (no package, no service)', () => {
  const layout = (inv: Inventory) => {
    for (const c of inv.clusters)
      for (const lb of c.lbs)
        lb.nginx = {
          kind: 'prefix',
          binary: '/application/nginx/sbin/nginx',
          prefix: '/application/nginx',
          conf: '/app/nginx/conf/nginx.conf',
          includeDir: '/app/nginx/conf/conf.d',
          pidFile: '/application/nginx/logs/nginx.pid',
        };
    return inv;
  };

  it('writes the site into the include dir, runs the binary to test, start and reload it, never installs nginx', async () => {
    const inv = layout(loadValid(fixturePath('active-passive.yaml')));
    const sb = Sandbox.forInventory(inv, () => ({ prefixNginx: true }));
    sandboxes.push(sb);
    const r = await deploy(inv, { connect: sb.connector(), http: sb.http(), verify: true });
    expect(r.message).toMatch(/2 of 2 host/);
    const lb1 = sb.host('lb1');
    expect(lb1.read('/app/nginx/conf/conf.d/hactl-web.conf')).toContain('upstream www');
    expect(lb1.read('/etc/nginx/conf.d/hactl-web.conf')).toBeUndefined();
    expect(lb1.log().filter((l) => /apt-get|service nginx/.test(l))).toEqual([]);
    expect(lb1.log()).toContain('nginx-prefix test');
    expect(lb1.log()).toContain('nginx-prefix start');
    inv.clusters[0].backends[0].port = 9090;
    await deploy(inv, { connect: sb.connector(), http: sb.http(), verify: false });
    expect(lb1.log()).toContain('nginx-prefix reload');
  });

  it("refuses, naming the fix, when the build's nginx.conf does not include hactl's directory", async () => {
    const inv = layout(loadValid(fixturePath('active-passive.yaml')));
    const sb = Sandbox.forInventory(inv, () => ({ prefixNginx: true }));
    sandboxes.push(sb);
    sb.host('lb2').write('/app/nginx/conf/nginx.conf', 'http {\n}\n');
    const r = await deploy(inv, { connect: sb.connector(), http: sb.http(), verify: false });
    expect(r.phase).toBe('preflight');
    expect(r.hosts.find((h) => h.host === 'lb2')?.error).toMatch(
      /does not include \/app\/nginx\/conf\/conf.d.*add "include \/app\/nginx\/conf\/conf.d\/\*.conf;"/,
    );
    expect(sb.applied()).toEqual([]);
  });
});
