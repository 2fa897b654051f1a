/**
 * vrrp.profile fast (issue 15): what it stands for, that explicit settings win over it, that its
 * conflicts are named where they are, what keepalived.conf gets (and that keepalived -t of every
 * supported version accepts it), and the lab's --fast inventory.
 */
import { readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import { fixturePath, loadText } from '../../helpers/inventory.js';
import { renderHost } from '../../../src/render/render.js';
import { promisedFailoverSeconds } from '../../../src/inventory/vrrp-math.js';
import { labInventory } from '../../../src/lab/inventory-writer.js';
import { planLab } from '../../../src/lab/plan.js';
import { stringify } from 'yaml';
import { keepalivedCheck } from '../../helpers/validators.js';

const BASE = readFileSync(fixturePath('active-passive.yaml'), 'utf8');

function withChanges(changes: [(string | number)[], unknown][], remove: (string | number)[][] = []): string {
  const doc = parseDocument(BASE);
  for (const path of remove) doc.deleteIn(['clusters', 0, ...path]);
  for (const [path, value] of changes) doc.setIn(['clusters', 0, ...path], doc.createNode(value));
  return doc.toString();
}

const fast = withChanges([[['vrrp'], { profile: 'fast' }]]);
const errors = (text: string) => loadText(text).problems.filter((p) => p.severity === 'error');
const cluster = (text: string) => {
  const r = loadText(text);
  if (!r.inventory) throw new Error(JSON.stringify(r.problems, null, 2));
  return r.inventory.clusters[0];
};

describe('vrrp.profile fast', () => {
  test('stands for VRRPv3, 0.1 s adverts, no auth and nginx probed every 0.1 s', () => {
    expect(errors(fast)).toEqual([]);
    const c = cluster(fast);
    expect(c.vips[0]).toEqual(expect.objectContaining({ advertInt: 0.1, vrrpVersion: 3, auth: undefined }));
    expect(c.healthCheck).toEqual({
      mode: 'script',
      interval: 0.1,
      timeout: 0.2,
      fall: 1,
      rise: 2,
      weight: 0,
      aliveInterval: 0,
    });
  });

  test('the default cluster is untouched by it', () => {
    const c = cluster(BASE);
    expect(c.vips[0]).toEqual(expect.objectContaining({ advertInt: 1, vrrpVersion: 2 }));
    expect(c.healthCheck.interval).toBe(1);
  });

  test('what the inventory sets wins over the profile, at the cluster and on a VIP', () => {
    const c = cluster(
      withChanges([
        [['vrrp'], { profile: 'fast', advert_int: 0.3 }],
        [['health_check'], { interval: 0.2, timeout: 0.2, fall: 2 }],
      ]),
    );
    expect(c.vips[0].advertInt).toBe(0.3);
    expect(c.healthCheck).toEqual(expect.objectContaining({ interval: 0.2, timeout: 0.2, fall: 2 }));
    const v = cluster(
      withChanges([
        [['vrrp'], { profile: 'fast' }],
        [['vips', 0, 'advert_int'], 0.5],
      ]),
    );
    expect(v.vips[0]).toEqual(expect.objectContaining({ advertInt: 0.5, vrrpVersion: 3 }));
  });

  test('with auth it is refused where the auth is, naming the profile', () => {
    const e = errors(withChanges([[['vrrp'], { profile: 'fast', auth: { type: 'PASS', pass: 's3cret' } }]]));
    expect(e).toEqual([
      expect.objectContaining({
        rule: 'auth-v3',
        path: 'clusters[0].vrrp.auth',
        message: expect.stringContaining('vrrp.profile fast is VRRPv3'),
        fix: expect.stringContaining('the profile has none'),
      }),
    ]);
  });

  test('vrrp_version 2 beside it keeps its 0.1 s adverts, which VRRPv2 cannot carry: refused', () => {
    const e = errors(withChanges([[['vrrp'], { profile: 'fast', vrrp_version: 2 }]]));
    expect(e.map((p) => p.rule)).toContain('advert-int');
  });

  test('an unknown profile is a schema error that names the field', () => {
    const e = errors(withChanges([[['vrrp'], { profile: 'quick' }]]));
    expect(e[0]).toEqual(expect.objectContaining({ path: expect.stringContaining('clusters[0].vrrp.profile') }));
  });

  test('its failover bounds follow from its timers', () => {
    const c = cluster(fast);
    // Detection: the longest gap between keepalived's runs (1 − (0.95 − 0.1 − 0.05) s), then a
    // probe's timeout (0.2 s); then the backup's skew after the master's priority-0 advert.
    const nginx = promisedFailoverSeconds('nginx-death', c.healthCheck, 0.1, 100);
    expect(nginx.seconds).toBeCloseTo(0.2 + 0.2 + (156 / 256) * 0.1, 3);
    expect(nginx.formula).toContain('probes every 0.1s');
    expect(promisedFailoverSeconds('silent', c.healthCheck, 0.1, 100).seconds).toBeCloseTo(0.361, 3);
  });

  const conf = (keepalived?: string) => {
    const c = cluster(fast);
    return renderHost(c, c.lbs[0], keepalived ? { keepalived } : {});
  };

  test('keepalived.conf: version 3, advert_int 0.1, no authentication; the script runs each second and probes every 0.1 s', () => {
    const text = conf().files.find((f) => f.path.endsWith('keepalived.conf'))!.content;
    expect(text).toMatch(/^\s+version 3$/m);
    expect(text).toMatch(/^\s+advert_int 0\.1$/m);
    // keepalived reads a vrrp_script's interval and timeout as whole seconds.
    expect(text).toMatch(/^\s+interval 1$/m);
    expect(text).toMatch(/^\s+timeout 2$/m);
    expect(text).not.toMatch(/authentication|auth_pass/);
    const check = conf().files.find((f) => f.path.endsWith('check-nginx.sh'))!.content;
    expect(check).toContain('--max-time 0.2');
    expect(check).toContain('sleep 0.1');
  });

  // This machine's keepalived; test/e2e/fast-profile.test.ts runs each lab release's own.
  test("this machine's keepalived -t accepts it", () => {
    expect(keepalivedCheck(conf('2.2.7'))).toEqual(expect.objectContaining({ ok: true }));
  });
});

describe('lab up --fast', () => {
  const input = (ipv6: boolean) => ({
    plan: planLab(2, { clusters: 1, lbs: 2, backends: 1, dualMaster: false, ipv6 }),
    identityFile: '/x/id',
    knownHostsFile: '/x/kh',
    vrrpPass: 'abcd1234',
    fast: true,
  });

  test.each([false, true])(
    'the inventory says profile fast and carries no auth (ipv6 %s), and is schema-valid',
    (ipv6) => {
      const doc = labInventory(input(ipv6));
      const c = doc.clusters[0];
      expect(c.vrrp).toEqual({ profile: 'fast' });
      expect(JSON.stringify(doc)).not.toContain('abcd1234');
      expect(loadText(stringify(doc)).problems.filter((p) => p.severity === 'error')).toEqual([]);
    },
  );
});
