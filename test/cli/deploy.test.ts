/** The deploy runner against simulated hosts: order, idempotence, all-or-nothing preflight, rollback, locks. */
import { deploy, type DeployOptions } from '../../src/run/deploy.js';
import { deployJson } from '../../src/ui/deploy-view.js';
import { fixturePath, loadValid } from '../helpers/inventory.js';
import { FakeHost } from '../helpers/fake-host.js';
import type { Inventory } from '../../src/inventory/model.js';

function setup(fixture = 'active-passive.yaml') {
  const inv: Inventory = loadValid(fixturePath(fixture));
  const log: string[] = [];
  const hosts = new Map<string, FakeHost>();
  for (const c of inv.clusters)
    for (const lb of c.lbs)
      hosts.set(
        lb.name,
        FakeHost.create(lb.name, lb.interface, `${lb.vrrpAddress}/24`, log, {
          masterOf: c.vips
            .filter((v) => v.master === lb.name)
            .map((v) => ({ name: v.name, cidr: v.cidr, iface: lb.interface })),
          backupOf: c.vips.filter((v) => v.master !== lb.name).map((v) => v.name),
        }),
      );
  const opts = (over: Partial<DeployOptions> = {}): DeployOptions => ({
    connect: async (lb) => {
      const t = hosts.get(lb.name)!.transport;
      t.closed = false; // a new connection for each run
      return t;
    },
    verify: false,
    ...over,
  });
  return { inv, log, hosts, opts };
}

describe('deploy (simulated hosts)', () => {
  it('cold deploy changes every host, backups first, then is a no-op', async () => {
    const { inv, log, hosts, opts } = setup();
    const first = await deploy(inv, opts());
    expect(first.ok).toBe(true);
    expect(log).toEqual(['apply lb2', 'apply lb1']);
    expect(first.hosts.map((h) => [h.host, h.status])).toEqual([
      ['lb1', 'changed'],
      ['lb2', 'changed'],
    ]);
    expect(first.hosts[0].servicesStarted).toEqual(['nginx', 'keepalived']);
    expect(hosts.get('lb1')!.state.files.get('/etc/keepalived/keepalived.conf')?.mode).toBe('0600');

    log.length = 0;
    const second = await deploy(inv, opts());
    expect(second.ok).toBe(true);
    expect(log).toEqual([]);
    expect(second.hosts.every((h) => h.status === 'unchanged')).toBe(true);
    expect(second.message).toMatch(/nothing to change on 2 host/);
    // One round trip per host for a no-op: lock + facts together.
    expect(second.hosts.map((h) => h.roundTrips - first.hosts.find((f) => f.host === h.host)!.roundTrips)).toEqual([
      1, 1,
    ]);
  });

  it('dual-master: each host masters one VIP; both change, one at a time', async () => {
    const { inv, log, opts } = setup('dual-master.yaml');
    const r = await deploy(inv, opts());
    expect(r.ok).toBe(true);
    expect(log).toHaveLength(2);
  });

  it('a changed backend list touches only the nginx file and reloads only nginx', async () => {
    const { inv, opts } = setup();
    await deploy(inv, opts());
    inv.clusters[0].backends[0].port = 9090;
    const r = await deploy(inv, opts());
    expect(r.plans.map((p) => p.reload)).toEqual([['nginx'], ['nginx']]);
    expect(r.hosts[0].filesChanged).toEqual(['/etc/nginx/conf.d/hactl-web.conf']);
  });

  it('dry run reads facts without the lock and changes nothing', async () => {
    const { inv, log, hosts, opts } = setup();
    const r = await deploy(inv, opts({ dryRun: true }));
    expect(r.ok).toBe(true);
    expect(r.message).toMatch(/2 host\(s\) would change \(dry run/);
    expect(log).toEqual([]);
    expect(
      hosts
        .get('lb1')!
        .transport.scripts()
        .some((s) => s.includes('flock')),
    ).toBe(false);
    const diff = r.plans[0].files.find((f) => f.file.path.endsWith('keepalived.conf'))!.diff;
    expect(diff).toContain('auth_pass [REDACTED]');
    expect(JSON.stringify(deployJson(r))).not.toContain('s3cret');
  });

  it('a preflight failure on one host changes nothing anywhere', async () => {
    const { inv, log, hosts, opts } = setup();
    hosts.get('lb2')!.state.links = ['lo', 'ens4'];
    const r = await deploy(inv, opts());
    expect(r.ok).toBe(false);
    expect(r.phase).toBe('preflight');
    expect(r.message).toMatch(/nothing was changed on any host/);
    expect(r.hosts.find((h) => h.host === 'lb2')!.error).toMatch(
      /VRRP interface eth0 does not exist \(interfaces: ens4\)/,
    );
    expect(log).toEqual([]);
  });

  it('a VIP outside the interface subnet fails preflight', async () => {
    const { inv, log, hosts, opts } = setup();
    hosts.get('lb1')!.state.addresses = ['eth0 inet 172.16.0.5/24'];
    const r = await deploy(inv, opts());
    expect(r.hosts.find((h) => h.host === 'lb1')!.error).toMatch(
      /VIP 10\.0\.0\.100\/24 is outside the subnets of eth0 \(172\.16\.0\.5\/24\)/,
    );
    expect(log).toEqual([]);
  });

  it('an unreachable host fails preflight; the others are not touched', async () => {
    const { inv, log, opts } = setup();
    const r = await deploy(
      inv,
      opts({
        connect: async (lb) => {
          if (lb.name === 'lb1') throw new Error('lb1: connection refused');
          return setup().hosts.get(lb.name)!.transport;
        },
      }),
    );
    expect(r.phase).toBe('preflight');
    expect(log).toEqual([]);
  });

  it('a validation failure stops the rollout before the master and reports the validator output', async () => {
    const { inv, log, hosts, opts } = setup();
    hosts.get('lb2')!.failValidation = 'nginx: [emerg] unknown directive "bogus"';
    const r = await deploy(inv, opts());
    expect(r.ok).toBe(false);
    expect(r.phase).toBe('apply');
    expect(log).toEqual(['apply lb2']);
    const lb2 = r.hosts.find((h) => h.host === 'lb2')!;
    expect(lb2.status).toBe('failed');
    expect(lb2.error).toMatch(/validation failed; the previous files were restored byte for byte/);
    expect(lb2.error).toMatch(/unknown directive "bogus"/);
    expect(r.hosts.find((h) => h.host === 'lb1')!.status).toBe('skipped');
  });

  it('a held lock refuses the deploy and names the holder', async () => {
    const { inv, log, hosts, opts } = setup();
    hosts.get('lb1')!.state.lockHeldBy = 'alice@laptop (hactl pid 42) since 2026-11-25T08:00:00Z';
    const r = await deploy(inv, opts());
    expect(r.phase).toBe('preflight');
    expect(r.hosts.find((h) => h.host === 'lb1')!.error).toMatch(
      /another deploy holds the lock: alice@laptop \(hactl pid 42\) since 2026-11-25/,
    );
    expect(log).toEqual([]);
  });

  it('not confirmed: nothing changes', async () => {
    const { inv, log, opts } = setup();
    const r = await deploy(inv, opts({ confirm: async () => false }));
    expect(r.phase).toBe('confirm');
    expect(log).toEqual([]);
  });

  it('interrupted during the rollout: the host in flight finishes, the rest is skipped', async () => {
    const { inv, log, hosts, opts } = setup();
    const ac = new AbortController();
    const lb2 = hosts.get('lb2')!;
    const original = lb2.apply.bind(lb2);
    lb2.apply = (s: string) => {
      ac.abort();
      return original(s);
    };
    const r = await deploy(inv, opts({ signal: ac.signal }));
    expect(log).toEqual(['apply lb2']);
    expect(r.aborted).toBe(true);
    expect(r.hosts.find((h) => h.host === 'lb2')!.status).toBe('changed');
    expect(r.hosts.find((h) => h.host === 'lb1')!.status).toBe('skipped');
  });
});
