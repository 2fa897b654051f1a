/** VIP selection, the expected backup and the promised bound per fault, from fixture inventories. */
import { findVip, planFault, expectedBackup } from '../../../src/failover/plan.js';
import {
  promisedFailoverSeconds,
  promisedLinkDownSeconds,
  skewTime,
  convergenceMs,
} from '../../../src/inventory/vrrp-math.js';
import { FAULT_EVENT } from '../../../src/failover/faults.js';
import { parseFaults } from '../../../src/failover/failover-test.js';
import { tickSplitter } from '../../../src/failover/vip-watch.js';
import { watchSection } from '../../../src/remote/sections/watch.js';
import { render } from '../../../src/remote/script.js';
import { execFileSync } from 'node:child_process';
import { fixturePath, loadValid } from '../../helpers/inventory.js';

const hc = { mode: 'script' as const, interval: 1, timeout: 1, fall: 1, rise: 2, weight: 0 };

describe('bounds (vrrp-math)', () => {
  it('crash: 3 × advert_int + skew; graceful: skew; nginx death: interval × fall + VRRP time', () => {
    expect(skewTime(100, 1)).toBeCloseTo(0.609, 3);
    expect(promisedFailoverSeconds(FAULT_EVENT['kill-keepalived'], hc, 1, 100).seconds).toBe(3.609);
    expect(promisedFailoverSeconds(FAULT_EVENT['partition'], hc, 1, 100).seconds).toBe(3.609);
    expect(promisedFailoverSeconds(FAULT_EVENT['stop-keepalived'], hc, 1, 100).seconds).toBe(0.609);
    expect(promisedFailoverSeconds(FAULT_EVENT['stop-nginx'], hc, 1, 100).seconds).toBe(1.609);
    expect(promisedFailoverSeconds(FAULT_EVENT['stop-nginx'], { ...hc, weight: -60, fall: 2 }, 1, 100).seconds).toBe(
      5.609,
    );
    expect(promisedFailoverSeconds(FAULT_EVENT['stop-nginx'], { ...hc, mode: 'process' }, 1, 100).seconds).toBe(0.609);
  });

  it('a weighted check moves the VIP after the master-down interval (3 × advert_int + skew), not one advert', () => {
    // The lowered priority reaches the backup in adverts it discards (it preempts): only its
    // master-down timer moves the VIP, as for a weighted track_interface.
    const weighted = { ...hc, weight: -60 };
    for (const advert of [1, 2, 0.5]) {
      const b = promisedFailoverSeconds(FAULT_EVENT['stop-nginx'], weighted, advert, 100);
      expect(b.seconds).toBeCloseTo(1 + 3 * advert + skewTime(100, advert), 3);
      expect(b.formula).toContain(`3×${advert}s + skew`);
      const link = promisedLinkDownSeconds({ weight: -60 }, advert, 100).seconds;
      expect(b.seconds).toBeCloseTo(1 + link, 3);
    }
  });

  it('the issue targets hold for the defaults: crash ≤ 4.0 s at advert_int 1, ≤ 1.0 s with VRRPv3 at 0.2', () => {
    expect(promisedFailoverSeconds(FAULT_EVENT['kill-keepalived'], hc, 1, 100).seconds).toBeLessThanOrEqual(4);
    expect(promisedFailoverSeconds(FAULT_EVENT['kill-keepalived'], hc, 0.2, 100).seconds).toBeLessThanOrEqual(1);
    expect(promisedFailoverSeconds(FAULT_EVENT['stop-keepalived'], hc, 1, 100).seconds).toBeLessThanOrEqual(1);
    expect(promisedFailoverSeconds(FAULT_EVENT['stop-nginx'], hc, 1, 100).seconds).toBeLessThanOrEqual(2.5);
  });
});

describe('plan', () => {
  const inv = loadValid(fixturePath('three-lbs.yaml'));

  it('finds a VIP by name or cluster/name and refuses unknown ones with the known list', () => {
    const first = findVip(inv);
    expect(findVip(inv, first.vip.name).vip.name).toBe(first.vip.name);
    expect(findVip(inv, `${first.cluster.name}/${first.vip.name}`).cluster.name).toBe(first.cluster.name);
    expect(() => findVip(inv, 'nope')).toThrow(/no VIP named nope .*known: /);
  });

  it('expects the highest-priority other node and uses its priority for the bound', () => {
    const target = findVip(inv);
    const holder = target.vip.master;
    const next = expectedBackup(target.vip, holder)!;
    const others = target.vip.nodes.filter((n) => n.lb !== holder);
    expect(next.priority).toBe(Math.max(...others.map((n) => n.priority)));
    const p = planFault('kill-keepalived', target, holder);
    expect(p).toMatchObject({ oldMaster: holder, expectedNewMaster: next.lb });
    expect(p.boundMs).toBe(
      Math.round((3 * target.vip.advertInt + ((256 - next.priority) / 256) * target.vip.advertInt) * 1000),
    );
  });

  it('parses --fault', () => {
    expect(parseFaults('all')).toEqual([
      'stop-nginx',
      'stop-keepalived',
      'kill-keepalived',
      'partition',
      'isolate',
      'freeze',
    ]);
    expect(parseFaults('partition')).toEqual(['partition']);
    expect(() => parseFaults('reboot')).toThrow(/unknown fault reboot/);
  });
});

describe('convergence', () => {
  it('one formula for deploy waits: start, the check rising, preempt_delay, then master-down of the slowest VIP, plus margin', () => {
    const inv = loadValid(fixturePath('active-passive.yaml'));
    const c = inv.clusters[0];
    // 1 s start + rise 2 × 1 s + 3 × 1 s + skew (256-100)/256 s + 8 s margin
    expect(convergenceMs(c, c.vips)).toBe(Math.round((1 + 2 + 3 + 156 / 256) * 1000) + 8000);
    expect(convergenceMs(c, [{ ...c.vips[0], preemptDelay: 5 }])).toBe(convergenceMs(c, c.vips) + 5000);
  });
});

describe('vip watch', () => {
  it('the real loop under sh: one block of addresses per tick, ended by its marker, bounded', () => {
    const section = watchSection(0.01, 3);
    const bin = execFileSync('mktemp', ['-d'], { encoding: 'utf8' }).trim();
    execFileSync('sh', [
      '-c',
      `printf '#!/bin/sh\\necho "2: eth0    inet 10.0.0.100/24 scope global eth0"\\n' > ${bin}/ip; chmod +x ${bin}/ip`,
    ]);
    const out = execFileSync('sh', ['-c', render(section.script)], {
      encoding: 'utf8',
      env: { PATH: `${bin}:/usr/bin:/bin` },
    });
    const ticks: Set<string>[] = [];
    tickSplitter((lines) => ticks.push(section.parse(lines)))(out);
    expect(ticks).toHaveLength(3);
    expect([...ticks[0]]).toEqual(['10.0.0.100']);
    execFileSync('rm', ['-rf', bin]);
  });

  it('a tick is complete when its marker arrives, even split across chunks', () => {
    const got: string[][] = [];
    const feed = tickSplitter((l) => got.push(l));
    feed('2: eth0    inet 10.0.0.1');
    feed('00/24 scope global eth0\n@ti');
    expect(got).toEqual([]);
    feed('ck\n');
    expect(got).toEqual([['2: eth0    inet 10.0.0.100/24 scope global eth0']]);
  });
});
