/**
 * The pure parts of drain: the site file edit (`down` on a backend's server lines, and off
 * again, byte for byte), the tracker every keepalived.conf carries, the drain write run under
 * sh, and the refusal when a node is the last healthy one of a VIP.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { markDown, recordText } from '../../../src/drain/backend.js';
import { drainBlockers, drainWriteScript } from '../../../src/drain/node.js';
import type { NodeRead } from '../../../src/drain/cluster-read.js';
import { renderHost } from '../../../src/render/render.js';
import { factsOf } from '../../helpers/facts.js';
import { fixturePath, loadValid } from '../../helpers/inventory.js';

const inv = loadValid(fixturePath('active-passive.yaml'));
const cluster = inv.clusters[0];
const [lb1, lb2] = cluster.lbs;
const site = (drained?: Set<string>) =>
  renderHost(cluster, lb1, {}, drained ? { drainedBackends: drained } : {}).files.find((f) =>
    f.path.endsWith('hactl-web.conf'),
  )!.content;
const web = (n: string) => cluster.backends.find((b) => b.name === n)!;

test('markDown gives what deploy renders for a drained backend, and undoes it byte for byte', () => {
  const plain = site();
  const down = markDown(plain, web('web1'), true);
  expect(down.found).toBe(true);
  expect(down.text).toBe(site(new Set(['web1'])));
  expect(down.text).toMatch(/server 10\.0\.1\.21:8080 weight=2 max_fails=3 fail_timeout=10s down;/);
  expect(markDown(down.text, web('web1'), true).text).toBe(down.text);
  expect(markDown(down.text, web('web1'), false).text).toBe(plain);
  const bare = markDown(plain, web('web2'), true).text;
  expect(bare).toMatch(/server 10\.0\.1\.22:8080 down;/);
  expect(markDown(bare, web('web2'), false).text).toBe(plain);
  const backup = markDown(plain, web('web3'), true).text;
  expect(backup).toMatch(/server 10\.0\.1\.23:8080 backup down;/);
  expect(markDown(backup, web('web3'), false).text).toBe(plain);
  expect(markDown(plain, { ...web('web1'), port: 9999 }, true).found).toBe(false);
  expect(recordText([{ name: 'web1', target: '10.0.1.21:8080' }])).toBe('web1 10.0.1.21:8080\n');
});

test('every keepalived.conf tracks the drain file in every instance (unknown version: the oldest, 2.1.5, has it)', () => {
  for (const v of [{}, { keepalived: '2.1.5' }, { keepalived: '2.3.3' }]) {
    const conf = renderHost(cluster, lb1, v).files[0].content;
    expect(conf).toContain(
      'track_file hactl_drain {\n    file "/var/lib/hactl/drain"\n    weight 1\n    init_file 0\n}',
    );
    expect(conf).toContain('    track_file {\n        hactl_drain\n    }\n');
  }
  expect(renderHost(cluster, lb1, { keepalived: '2.0.19' }).files[0].content).not.toContain('track_file');
});

test('the drain write is one rename: the file holds the old value or the new one', () => {
  const root = mkdtempSync(join(tmpdir(), 'hactl-drain-'));
  try {
    execFileSync('sh', ['-c', drainWriteScript(-253, root)]);
    expect(readFileSync(join(root, 'var/lib/hactl/drain'), 'utf8')).toBe('-253\n');
    execFileSync('sh', ['-c', drainWriteScript(0, root)]);
    expect(readFileSync(join(root, 'var/lib/hactl/drain'), 'utf8')).toBe('0\n');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('drainBlockers: the last healthy node of a VIP, with why each peer cannot take it', () => {
  const healthy = (lb: typeof lb1): NodeRead => ({
    lb,
    facts: factsOf({}, { nginxStatus: `ok ${lb.name}` }),
    keepalived: new Map(),
  });
  expect(drainBlockers(cluster, 'lb1', [healthy(lb1), healthy(lb2)])).toEqual([]);
  const drained = { ...healthy(lb2), facts: { ...healthy(lb2).facts!, drain: { node: -253, backends: [] } } };
  expect(drainBlockers(cluster, 'lb1', [healthy(lb1), drained])).toEqual([
    'lb1 is the last healthy node of vip1 (10.0.0.100/24): lb2 drained',
  ]);
  expect(drainBlockers(cluster, 'lb1', [healthy(lb1), { lb: lb2, error: 'connect ETIMEDOUT' }])).toEqual([
    'lb1 is the last healthy node of vip1 (10.0.0.100/24): lb2 unreachable (connect ETIMEDOUT)',
  ]);
});
