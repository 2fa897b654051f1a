/** Fault commands as text, per service manager; undo is idempotent; hostile peers are quoted. */
import { buildFault, restoredCheck, FAULT_KINDS } from '../../../src/failover/faults.js';

const t = { serviceManager: 'sysvinit' as const, peers: ['10.0.0.12', '10.0.0.13'], family: 4 as const };

describe('buildFault', () => {
  it('stops and starts services through the detected service manager', () => {
    expect(buildFault('stop-nginx', t)).toMatchObject({
      inject: 'service nginx stop',
      undo: 'pidof nginx >/dev/null 2>&1 || service nginx start',
    });
    expect(buildFault('stop-keepalived', { ...t, serviceManager: 'systemd' })).toMatchObject({
      inject: 'systemctl stop keepalived',
      undo: 'pidof keepalived >/dev/null 2>&1 || systemctl start keepalived',
    });
    expect(buildFault('stop-nginx', { ...t, serviceManager: 'openrc' }).inject).toBe('rc-service nginx stop');
  });

  it('kill-keepalived stops every keepalived process, then kills them, and restarts it to undo', () => {
    const f = buildFault('kill-keepalived', t);
    // Stopped first, so no keepalived process outlives another long enough to leave gracefully.
    expect(f.inject).toBe(
      "( trap '' HUP INT TERM PIPE; pkill -STOP -x keepalived; pkill -KILL -x keepalived ) || true",
    );
    // A half run (stopped, not killed) is killed before the start; a clean one is only started.
    expect(f.undo).toMatch(
      /^\( for hf_n in keepalived; do .*\) \|\| \{ pkill -KILL -x keepalived; .*\}; pidof keepalived >\/dev\/null 2>&1 \|\| service keepalived start$/s,
    );
    expect(restoredCheck('kill-keepalived', t)).toMatch(/^pidof keepalived .* && \( for hf_n in keepalived;/s);
    expect(f.expect).toMatch(/stays on the crashed master/);
  });

  it('partition drops VRRP from every peer and all outgoing VRRP, marked, and removes every copy on undo', () => {
    const f = buildFault('partition', t);
    expect(f.precheck).toMatch(/command -v iptables/);
    expect(f.inject).toBe(
      [
        'iptables -w -I INPUT -p 112 -s 10.0.0.12 -m comment --comment hactl-failover-test -j DROP',
        'iptables -w -I INPUT -p 112 -s 10.0.0.13 -m comment --comment hactl-failover-test -j DROP',
        'iptables -w -I OUTPUT -p 112 -m comment --comment hactl-failover-test -j DROP',
      ].join(' && '),
    );
    expect(f.undo).toContain(
      'while iptables -w -C INPUT -p 112 -s 10.0.0.12 -m comment --comment hactl-failover-test -j DROP 2>/dev/null; do iptables -w -D INPUT -p 112 -s 10.0.0.12',
    );
    expect(restoredCheck('partition', t)).toBe('! iptables-save 2>/dev/null | grep -q hactl-failover-test');
    expect(buildFault('partition', { ...t, family: 6 }).inject).toMatch(/^ip6tables /);
  });

  it('quotes a hostile peer address', () => {
    const f = buildFault('partition', { ...t, peers: ["1.2.3.4; rm -rf / '$(x)'"] });
    expect(f.inject).toContain(`-s '1.2.3.4; rm -rf / '\\''$(x)'\\'''`);
  });

  it('every fault has an undo and a restored check', () => {
    for (const k of FAULT_KINDS) {
      expect(buildFault(k, t).undo.length).toBeGreaterThan(0);
      expect(restoredCheck(k, t).length).toBeGreaterThan(0);
    }
  });
});
