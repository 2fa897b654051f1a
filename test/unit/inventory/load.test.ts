import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadInventoryFile } from '../../../src/inventory/load.js';
import { formatProblem } from '../../../src/inventory/problems.js';
import { fixturePath, loadValid } from '../../helpers/inventory.js';

const dir = mkdtempSync(join(tmpdir(), 'hactl-load-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
function write(name: string, content: string | Buffer): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

describe('bad files give one clear line, never a stack trace', () => {
  it.each([
    ['missing', () => join(dir, 'nope.yaml'), /file not found/],
    ['a directory', () => dir, /is a directory/],
    ['empty', () => write('empty.yaml', '   \n'), /is empty/],
    ['huge', () => write('huge.yaml', Buffer.alloc(2 * 1024 * 1024, 'a')), /at most 1 MiB/],
    ['malformed', () => write('bad.yaml', 'clusters:\n  - name: [a\n    b: }\n'), /./],
    ['a scalar', () => write('scalar.yaml', 'hello\n'), /must be a mapping/],
    ['duplicate keys', () => write('dup.yaml', 'clusters: []\nclusters: []\n'), /unique|duplicate/i],
  ])('%s', (_name, file, message) => {
    const r = loadInventoryFile(file());
    expect(r.inventory).toBeUndefined();
    expect(r.problems.length).toBeGreaterThan(0);
    expect(r.problems[0].message).toMatch(message);
    const line = formatProblem(r.problems[0]);
    expect(line).not.toMatch(/at .*\.js:\d+/);
  });
  it('malformed YAML names the line', () => {
    const r = loadInventoryFile(write('bad2.yaml', 'clusters:\n  - name: web\n   interface: eth0\n'));
    expect(r.problems[0].rule).toBe('yaml');
    expect(r.problems[0].line).toBeGreaterThanOrEqual(2);
  });
});

describe('derivation', () => {
  it('derives priorities: master 150, then 100, 90 in list order', () => {
    const inv = loadValid(fixturePath('three-lbs.yaml'));
    expect(inv.clusters[0].vips[0].nodes).toEqual([
      { lb: 'lb-a', priority: 150, state: 'MASTER' },
      { lb: 'lb-b', priority: 100, state: 'BACKUP' },
      { lb: 'lb-c', priority: 90, state: 'BACKUP' },
    ]);
  });
  it('dual-master mirrors the masters', () => {
    const inv = loadValid(fixturePath('dual-master.yaml'));
    const [a, b] = inv.clusters[0].vips;
    expect(a.nodes.map((n) => [n.lb, n.priority, n.state])).toEqual([
      ['kl1', 150, 'MASTER'],
      ['kl2', 100, 'BACKUP'],
    ]);
    expect(b.nodes.map((n) => [n.lb, n.priority, n.state])).toEqual([
      ['kl1', 100, 'BACKUP'],
      ['kl2', 150, 'MASTER'],
    ]);
  });
  it('nopreempt starts every node as BACKUP', () => {
    const inv = loadValid(fixturePath('unicast.yaml'));
    expect(inv.clusters[0].vips[0].nodes.map((n) => n.state)).toEqual(['BACKUP', 'BACKUP']);
    expect(inv.clusters[0].vips[0].preempt).toBe(false);
  });
  it('explicit priorities win', () => {
    const inv = loadValid(join(process.cwd(), 'examples', 'seed-dual-master.yaml'));
    expect(inv.clusters[0].vips[1].nodes.find((n) => n.lb === 'kl2')?.priority).toBe(150);
  });
  it('per-host SSH settings override the defaults', () => {
    const inv = loadValid(fixturePath('unicast.yaml'));
    expect(inv.clusters[0].lbs[0].ssh).toEqual({ user: 'deploy', port: 2222 });
  });
  it('the VRRP password is a secret: JSON and inspection show [REDACTED]', () => {
    const inv = loadValid(fixturePath('dual-master.yaml'));
    const json = JSON.stringify(inv);
    expect(json).not.toContain('envpass1');
    expect(json).toContain('[REDACTED]');
    expect(String(inv.clusters[0].vips[0].auth?.pass)).toBe('[REDACTED]');
    expect(inv.clusters[0].vips[0].auth?.pass.reveal()).toBe('envpass1');
  });
});
