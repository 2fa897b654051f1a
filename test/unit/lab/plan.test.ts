import { inventoryYaml, labInventory, withPrefixNginx } from '../../../src/lab/inventory-writer.js';
import { NGINX_PREFIX, nginxPrefixConf } from '../../../src/lab/nginx-prefix.js';
import { bootScript, hostDirs } from '../../../src/lab/host.js';
import { bridgeCommands, hostLinkCommands } from '../../../src/lab/network.js';
import { LAB_BRIDGE_PATTERN, LAB_NAME_PATTERN, checkRequest, ipv4Overlaps, planLab } from '../../../src/lab/plan.js';
import { renderHost } from '../../../src/render/render.js';
import { loadText } from '../../helpers/inventory.js';
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

const BOOT = {
  prefix: 24,
  lowerDir: '/var/cache/hactl-lab/v1/debian-12/preinstalled/root',
  repoDir: '/var/cache/hactl-lab/v1/debian-12/preinstalled/repo',
  hostKeys: 'no-rsa' as const,
  timeoutMs: 1000,
};

describe('--private-net: a second bridge per cluster, adverts on eth1, VIPs on eth0', () => {
  const plan = planLab(4, { clusters: 2, lbs: 2, backends: 1, dualMaster: false, privateNet: true });

  test('each cluster its own segment and bridge; each load balancer eth1 there, backends none', () => {
    expect(plan.clusters.map((c) => c.privateNet)).toEqual([
      { bridge: 'hactl4-priv1', subnet: '198.18.1.0/24', prefix: 24 },
      { bridge: 'hactl4-priv2', subnet: '198.18.2.0/24', prefix: 24 },
    ]);
    expect(
      plan.hosts.map((h) => `${h.name} ${h.private ? `${h.private.ip} ${h.private.veth}@${h.private.bridge}` : '-'}`),
    ).toEqual([
      'lb1 198.18.1.11 hactl4-lb1p@hactl4-priv1',
      'lb2 198.18.1.12 hactl4-lb2p@hactl4-priv1',
      'lb3 198.18.2.13 hactl4-lb3p@hactl4-priv2',
      'lb4 198.18.2.14 hactl4-lb4p@hactl4-priv2',
      'web1 -',
    ]);
  });

  test('the biggest lab keeps every name within 15 characters, and teardown recognises them', () => {
    const big = planLab(254, { clusters: 50, lbs: 2, backends: 1, dualMaster: false, privateNet: true });
    const names = [
      ...big.clusters.map((c) => c.privateNet!.bridge),
      ...big.hosts.flatMap((h) => (h.private ? [h.private.veth] : [])),
    ];
    expect(names).toContain('hactl254-priv50');
    expect(names).toContain('hactl254-lb100p');
    for (const n of names) {
      expect(n.length).toBeLessThanOrEqual(15);
      expect(n).toMatch(LAB_NAME_PATTERN);
    }
    expect(big.clusters.every((c) => LAB_BRIDGE_PATTERN.test(c.privateNet!.bridge))).toBe(true);
    expect(big.hosts.some((h) => LAB_BRIDGE_PATTERN.test(h.private?.veth ?? h.veth))).toBe(false);
    expect(LAB_BRIDGE_PATTERN.test(big.bridge)).toBe(true);
  });

  test('without --private-net: no second bridge, no eth1', () => {
    const p = planLab(4, { clusters: 1, lbs: 2, backends: 1, dualMaster: false });
    expect(p.clusters[0].privateNet).toBeUndefined();
    expect(p.hosts.some((h) => h.private)).toBe(false);
    expect(bridgeCommands(p).join('\n')).not.toContain('priv');
    expect(p.hosts.flatMap((h) => hostLinkCommands(p, h)).join('\n')).not.toContain('eth1');
  });

  test('the links: a flooding bridge per cluster without an address of the machine, a veth to eth1 per load balancer', () => {
    const br = bridgeCommands(plan);
    expect(br).toContain('link add hactl4-priv1 type bridge mcast_snooping 0 stp_state 0 forward_delay 0');
    expect(br).toContain('link set hactl4-priv2 up');
    expect(br.filter((l) => l.startsWith('addr add'))).toEqual(['addr add 10.213.4.1/24 dev hactl4-br']);
    const lb3 = plan.hosts.find((h) => h.name === 'lb3')!;
    expect(hostLinkCommands(plan, lb3)).toEqual([
      'netns add hactl4-lb3',
      'link add hactl4-lb3 type veth peer name eth0 netns hactl4-lb3',
      'link set hactl4-lb3 master hactl4-br up',
      'link add hactl4-lb3p type veth peer name eth1 netns hactl4-lb3',
      'link set hactl4-lb3p master hactl4-priv2 up',
    ]);
    const web1 = plan.hosts.find((h) => h.name === 'web1')!;
    expect(hostLinkCommands(plan, web1).join('\n')).not.toContain('eth1');
  });

  test('the boot script addresses eth1 and brings it up (IPv6 off there unless --ipv6)', () => {
    const lb1 = plan.hosts.find((h) => h.name === 'lb1')!;
    const script = bootScript(lb1, hostDirs('/var/lib/hactl/labs/hactl4', 'lb1'), BOOT);
    expect(script).toContain('ip addr add 198.18.1.11/24 dev eth1');
    expect(script).toContain('echo 1 > /proc/sys/net/ipv6/conf/eth1/disable_ipv6');
    expect(script.indexOf('ip link set eth1 up')).toBeGreaterThan(script.indexOf('ip link set eth0 up'));
    const v6 = planLab(4, { clusters: 1, lbs: 2, backends: 1, dualMaster: false, privateNet: true, ipv6: true });
    const s6 = bootScript(v6.hosts[0], hostDirs('/var/lib/hactl/labs/hactl4', 'lb1'), BOOT);
    expect(s6).toContain('echo 0 > /proc/sys/net/ipv6/conf/eth1/accept_dad');
    expect(s6).not.toContain('dev eth1 nodad');
    const web = bootScript(plan.hosts[4], hostDirs('/var/lib/hactl/labs/hactl4', 'web1'), BOOT);
    expect(web).not.toContain('eth1');
  });

  test('the inventory: VRRP interface eth1 with each node its eth1 address, every VIP on eth0, and it validates', () => {
    const inv = labInventory({ plan, identityFile: '/x/id', knownHostsFile: '/x/kh', vrrpPass: 'abcd1234' });
    const c = inv.clusters[1];
    expect(c.interface).toBe('eth1');
    expect(c.load_balancers).toEqual([
      { name: 'lb3', address: '10.213.4.13', vrrp_address: '198.18.2.13' },
      { name: 'lb4', address: '10.213.4.14', vrrp_address: '198.18.2.14' },
    ]);
    expect(c.vips).toEqual([expect.objectContaining({ name: 'vip2', address: '10.213.4.122/24', dev: 'eth0' })]);
    const r = loadText(inventoryYaml(inv, plan, '/tmp/lab-nic'));
    expect(r.problems).toEqual([]);
    const vip = r.inventory!.clusters[0].vips[0];
    expect(r.inventory!.clusters[0].lbs.map((lb) => lb.vrrpAddress)).toEqual(['198.18.1.11', '198.18.1.12']);
    const conf = renderHost(r.inventory!.clusters[0], r.inventory!.clusters[0].lbs[0], {
      keepalived: '2.2.7',
    }).files.find((f) => f.path.endsWith('keepalived.conf'))!.content;
    expect(conf).toMatch(/interface eth1\n/);
    expect(vip.dev).toBe('eth0');
    expect(conf).toContain(`${vip.cidr} dev eth0`);
    expect(inventoryYaml(inv, plan, '/tmp/lab-nic')).toContain('lab1 198.18.1.0/24, lab2 198.18.2.0/24');
  });

  test('without --private-net the inventory stays all on eth0, with no dev and no vrrp_address', () => {
    const p = planLab(4, { clusters: 1, lbs: 2, backends: 1, dualMaster: false });
    const c = labInventory({ plan: p, identityFile: '/x/id', knownHostsFile: '/x/kh', vrrpPass: 'abcd1234' })
      .clusters[0];
    expect(c.interface).toBe('eth0');
    expect(c.load_balancers.some((lb) => 'vrrp_address' in lb)).toBe(false);
    expect(c.vips.some((v) => 'dev' in v)).toBe(false);
  });
});
