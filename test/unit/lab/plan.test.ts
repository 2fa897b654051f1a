import { labInventory, withPrefixNginx } from '../../../src/lab/inventory-writer.js';
import { NGINX_PREFIX, nginxPrefixConf } from '../../../src/lab/nginx-prefix.js';
import { checkRequest, ipv4Overlaps, planLab } from '../../../src/lab/plan.js';
import { formatPrereqProblems, TOOLS } from '../../../src/lab/prereqs.js';

describe('planLab', () => {
  test('default lab: lb1, lb2, web1..3, a VIP, names within 15 characters', () => {
    const p = planLab(7, { clusters: 1, lbs: 2, backends: 3, dualMaster: false });
    expect(p.id).toBe('hactl7');
    expect(p.subnet).toBe('10.213.7.0/24');
    expect(p.hosts.map((h) => `${h.name}=${h.ip}`)).toEqual([
      'lb1=10.213.7.11',
      'lb2=10.213.7.12',
      'web1=10.213.7.201',
      'web2=10.213.7.202',
      'web3=10.213.7.203',
    ]);
    expect(p.clusters[0].vips).toEqual([expect.objectContaining({ ip: '10.213.7.121', master: 'lb1' })]);
    for (const h of p.hosts) expect(h.veth.length).toBeLessThanOrEqual(15);
  });

  test('25 clusters: 50 load balancers, distinct VRIDs and VIPs', () => {
    const p = planLab(200, { clusters: 25, lbs: 2, backends: 3, dualMaster: false });
    const vips = p.clusters.flatMap((c) => c.vips);
    expect(p.hosts.filter((h) => h.role === 'lb')).toHaveLength(50);
    expect(new Set(vips.map((v) => v.vrid)).size).toBe(25);
    expect(new Set(vips.map((v) => v.ip)).size).toBe(25);
    for (const h of p.hosts) expect(h.veth.length).toBeLessThanOrEqual(15);
  });

  test('dual-master: two VIPs per cluster with mirrored masters', () => {
    const p = planLab(3, { clusters: 1, lbs: 2, backends: 1, dualMaster: true });
    expect(p.clusters[0].vips.map((v) => v.master)).toEqual(['lb1', 'lb2']);
  });

  test('impossible requests are refused with the flag to change', () => {
    expect(checkRequest({ clusters: 60, lbs: 2, backends: 3, dualMaster: false }).join()).toMatch(
      /at most 100 load balancers/,
    );
    expect(checkRequest({ clusters: 1, lbs: 1, backends: 3, dualMaster: false }).join()).toMatch(/--lbs must be/);
    expect(() => planLab(1, { clusters: 1, lbs: 2, backends: 99, dualMaster: false })).toThrow(/at most 54 backends/);
  });

  test('subnet overlap detection (labs avoid the machine routes)', () => {
    expect(ipv4Overlaps('10.0.0.0/8', '10.213.1.0/24')).toBe(true);
    expect(ipv4Overlaps('10.213.1.0/24', '10.213.2.0/24')).toBe(false);
    expect(ipv4Overlaps('10.213.1.5', '10.213.1.0/24')).toBe(true);
  });
});

describe('prerequisite messages', () => {
  test('name what is missing, why, and the one command that installs it', () => {
    const missing = TOOLS.filter((t) => t.cmd === 'debootstrap' || t.cmd === 'dpkg-scanpackages');
    const msg = formatPrereqProblems({
      ok: false,
      blockers: [],
      missing,
      installCommand: 'apt-get install -y debootstrap dpkg-dev',
    });
    expect(msg).toMatch(
      /missing: debootstrap \(debootstrap: building each release's root file system\), dpkg-scanpackages/,
    );
    expect(msg).toMatch(/install them with: apt-get install -y debootstrap dpkg-dev/);
    expect(msg).toMatch(/--install-deps/);
  });
});

describe('--os, --packages and --ipv6 in the plan', () => {
  test('every host records its release and image; --os mixed differs within a cluster', () => {
    const p = planLab(5, { clusters: 1, lbs: 3, backends: 1, dualMaster: false, os: 'mixed', packages: 'none' });
    expect(p.hosts.map((h) => `${h.name}:${h.release}/${h.image}`)).toEqual([
      'lb1:debian-11/base',
      'lb2:debian-13/base',
      'lb3:debian-12/base',
      'web1:debian-12/preinstalled',
    ]);
  });

  test('--ipv6: ULA addresses keep the IPv4 interface id, each VIP gets a VRRPv3 twin', () => {
    const p = planLab(9, { clusters: 1, lbs: 2, backends: 1, dualMaster: true, ipv6: true });
    expect(p.subnet6).toBe('fd00:213:9::/64');
    expect(p.bridgeIp6).toBe('fd00:213:9::1');
    expect(p.hosts.map((h) => h.ip6)).toEqual(['fd00:213:9::11', 'fd00:213:9::12', 'fd00:213:9::201']);
    expect(p.clusters[0].vips.map((v) => `${v.name} ${v.family} ${v.cidr} ${v.vrid} ${v.master}`)).toEqual([
      'vip1 4 10.213.9.121/24 51 lb1',
      'vip2 4 10.213.9.122/24 52 lb2',
      'vip1v6 6 fd00:213:9::121/64 151 lb1',
      'vip2v6 6 fd00:213:9::122/64 152 lb2',
    ]);
  });

  test('without --ipv6 nothing IPv6 is planned', () => {
    const p = planLab(9, { clusters: 1, lbs: 2, backends: 1, dualMaster: false });
    expect(p.subnet6).toBeUndefined();
    expect(p.hosts.some((h) => h.ip6)).toBe(false);
    expect(p.clusters[0].vips.every((v) => v.family === 4)).toBe(true);
  });
});

describe('the lab inventory', () => {
  const input = (ipv6: boolean) => ({
    plan: planLab(2, { clusters: 1, lbs: 2, backends: 1, dualMaster: false, ipv6 }),
    identityFile: '/x/id',
    knownHostsFile: '/x/kh',
    vrrpPass: 'abcd1234',
  });

  test('IPv6 VIPs are VRRPv3 without authentication; IPv4 VIPs then carry their own', () => {
    const c = labInventory(input(true)).clusters[0];
    expect(c.vrrp).toEqual({ advert_int: 1 });
    expect(c.vips[0]).toEqual(expect.objectContaining({ name: 'vip1', auth: { type: 'PASS', pass: 'abcd1234' } }));
    expect(c.vips[1]).toEqual({
      name: 'vip1v6',
      address: 'fd00:213:2::121/64',
      vrid: 151,
      master: 'lb1',
      vrrp_version: 3,
    });
    expect(c.sites[0].vips).toEqual(['vip1', 'vip1v6']);
  });

  test('without IPv6 the cluster keeps one shared auth', () => {
    const c = labInventory(input(false)).clusters[0];
    expect(c.vrrp).toEqual({ advert_int: 1, auth: { type: 'PASS', pass: 'abcd1234' } });
    expect(c.vips[0]).not.toHaveProperty('auth');
  });

  test('--nginx prefix: each cluster says where its nginx lives, and only then', () => {
    const inv = labInventory(input(false));
    expect(inv.clusters[0]).not.toHaveProperty('nginx');
    expect(withPrefixNginx(inv).clusters[0]).toEqual(
      expect.objectContaining({
        nginx: {
          binary: '/application/nginx/sbin/nginx',
          conf_dir: '/app/nginx/conf',
          pid_file: '/application/nginx/logs/nginx.pid',
        },
      }),
    );
  });

  test('the prefix nginx.conf keeps every path under the prefix and includes the directory hactl writes to', () => {
    const conf = nginxPrefixConf();
    expect(conf).toContain(`pid        ${NGINX_PREFIX.pidFile};`);
    expect(conf).toContain('include /app/nginx/conf/conf.d/*.conf;');
    const directives = conf.split('\n').filter((l) => !l.trim().startsWith('#'));
    expect(directives.join('\n')).not.toMatch(/\/etc\/|\/var\//);
  });
});
