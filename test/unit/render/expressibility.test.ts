/**
 * Expressibility (issue 18 §5): for each of keepalived's VRRP samples that concern a front end
 * (test/unit/render/keepalived-samples.ts), the closest hactl inventory is valid, renders the
 * sample's VRRP subset on its node, and the real `keepalived -t` accepts what hactl wrote. What a
 * sample uses and hactl leaves out is listed in the README, with the reason.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { renderHost } from '../../../src/render/render.js';
import { loadText, ROOT } from '../../helpers/inventory.js';
import { vrrpSubset } from '../../helpers/keepalived-conf.js';
import { keepalivedCheck } from '../../helpers/validators.js';
import { inventoryOf, SAMPLES } from './keepalived-samples.js';

function rendered(sample: (typeof SAMPLES)[number]) {
  const r = loadText(stringify(inventoryOf(sample)), `${sample.file}.yaml`);
  const errors = r.problems.filter((p) => p.severity === 'error');
  if (!r.inventory || errors.length > 0) throw new Error(JSON.stringify(errors, null, 2));
  const c = r.inventory.clusters[0];
  return c.lbs.map((lb) => renderHost(c, lb, { keepalived: '2.2.7' }));
}

describe.each(SAMPLES.map((s) => [s.file, s] as const))('%s', (_file, sample) => {
  const hosts = rendered(sample);
  const conf = (i: number) => hosts[i].files.find((f) => f.path.endsWith('keepalived.conf'))!.content;

  it("renders the sample node's VRRP subset", () => {
    expect(vrrpSubset(conf(0), sample.globals)).toEqual(sample.expected);
  });

  it('keepalived -t accepts both nodes', () => {
    for (const h of hosts) {
      const res = keepalivedCheck(h);
      if (!res.ok) throw new Error(`${h.lb.name}:\n${res.output}`);
    }
  });

  it('the README says why each left-out feature is left out', () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('### What hactl leaves out of keepalived'));
    for (const f of sample.leftOut) expect(section).toContain(`**${f}**`);
  });
});
