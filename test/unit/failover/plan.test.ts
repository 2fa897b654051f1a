/** VIP selection, the expected backup and the promised bound per fault, from fixture inventories. */
import { findVip, planFault, expectedBackup } from '../../../src/failover/plan.js';
import { promisedFailoverSeconds, skewTime } from '../../../src/inventory/failover-math.js';
import { parseFaults } from '../../../src/failover/failover-test.js';
import { parseTick, watchScript } from '../../../src/failover/vip-watch.js';
import { fixturePath, loadValid } from '../../helpers/inventory.js';

const hc = { mode: 'script' as const, interval: 1, timeout: 1, fall: 1, rise: 2, weight: 0 };

describe('bounds (failover-math)', () => {
  it('crash: 3 × advert_int + skew; graceful: skew; nginx death: interval × fall + VRRP time', () => {
    expect(skewTime(100, 1)).toBeCloseTo(0.609, 3);
    expect(promisedFailoverSeconds('kill-keepalived', hc, 1, 100).seconds).toBe(3.609);
    expect(promisedFailoverSeconds('partition', hc, 1, 100).seconds).toBe(3.609);
    expect(promisedFailoverSeconds('stop-keepalived', hc, 1, 100).seconds).toBe(0.609);
    expect(promisedFailoverSeconds('stop-nginx', hc, 1, 100).seconds).toBe(1.609);
    expect(promisedFailoverSeconds('stop-nginx', { ...hc, weight: -60, fall: 2 }, 1, 100).seconds).toBe(3.609);
    expect(promisedFailoverSeconds('stop-nginx', { ...hc, mode: 'process' }, 1, 100).seconds).toBe(0.609);
  });

  it('the issue targets hold for the defaults: crash ≤ 4.0 s at advert_int 1, ≤ 1.0 s with VRRPv3 at 0.2', () => {
    expect(promisedFailoverSeconds('kill-keepalived', hc, 1, 100).seconds).toBeLessThanOrEqual(4);
    expect(promisedFailoverSeconds('kill-keepalived', hc, 0.2, 100).seconds).toBeLessThanOrEqual(1);
    expect(promisedFailoverSeconds('stop-keepalived', hc, 1, 100).seconds).toBeLessThanOrEqual(1);
    expect(promisedFailoverSeconds('stop-nginx', hc, 1, 100).seconds).toBeLessThanOrEqual(2.5);
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
    expect(parseFaults('all')).toEqual(['stop-nginx', 'stop-keepalived', 'kill-keepalived', 'partition']);
    expect(parseFaults('partition')).toEqual(['partition']);
    expect(() => parseFaults('reboot')).toThrow(/unknown fault reboot/);
  });
});

describe('vip watch', () => {
  it('parses a tick into the VIPs held', () => {
    expect([...parseTick('@ 127.0.0.1 10.0.0.11 10.0.0.100 ::1 ', ['10.0.0.100', '10.0.0.101'])!]).toEqual([
      '10.0.0.100',
    ]);
    expect(parseTick('garbage', ['10.0.0.100'])).toBeUndefined();
  });

  it('the remote loop is bounded', () => {
    expect(watchScript(0.05, 100)).toContain('while [ "$i" -lt 100 ]');
  });
});
