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
    const missing = TOOLS.filter((t) => t.cmd === 'keepalived' || t.cmd === 'sshd');
    const msg = formatPrereqProblems({
      ok: false,
      blockers: [],
      missing,
      installCommand: 'apt-get install -y openssh-server keepalived',
    });
    expect(msg).toMatch(/missing: sshd \(openssh-server: each host runs sshd\), keepalived/);
    expect(msg).toMatch(/install them with: apt-get install -y openssh-server keepalived/);
    expect(msg).toMatch(/--install-deps/);
  });
});
