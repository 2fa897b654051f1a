/** The terminal timeline: one slot per time step, fault marks, no colour codes under NO_COLOR. */
import { timeline } from '../../../src/ui/failover-view.js';

describe('timeline', () => {
  const probes = Array.from({ length: 40 }, (_, i) => ({
    t: i * 100,
    ok: !(i >= 10 && i < 14) && i !== 20,
    latencyMs: 1,
  }));

  it('marks answered, failed and mixed slots, and the fault relative to time zero', () => {
    process.env.NO_COLOR = '1';
    const [row, marks, axis, labels] = timeline(probes, [{ t: 1000, label: 'fault' }], 0, 4000, 1000, 20);
    expect(row).toBe('clients |=====XX===x=========|');
    expect(marks).toBe('        |     ^              |');
    expect(axis).toMatch(/−1\.00 s +\+3\.00 s/);
    expect(labels).toContain('^ fault +0.00 s');
    // eslint-disable-next-line no-control-regex
    expect([row, marks, axis, labels].join('')).not.toMatch(/\u001b\[/);
  });
});
