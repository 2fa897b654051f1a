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

describe('YAML limits end in a located problem, never a stack trace or a hang', () => {
  const aliasBomb = [
    'a: &a [x,x,x,x,x,x,x,x,x]',
    'b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]',
    'c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]',
    'clusters: [*c,*c,*c,*c,*c,*c,*c,*c,*c]',
  ];
  it.each([
    ['/dev/zero (read at most 1 MiB + 1 byte)', () => '/dev/zero', /larger than 1 MiB/, 1, 1],
    ['UTF-16', () => write('u16.yaml', Buffer.from('\ufeffclusters: []\n', 'utf16le')), /is UTF-16 text/, 1, 1],
    [
      'not UTF-8, at the bad byte',
      () => write('latin1.yaml', Buffer.from('clusters:\n  - name: caf\xe9\n', 'latin1')),
      /not UTF-8/,
      2,
      14,
    ],
    [
      'a NUL byte',
      () => write('nul.yaml', 'clusters:\n  - name: a\u0000b\n'),
      /NUL byte: this is a binary file/,
      2,
      12,
    ],
    ['a control character', () => write('bel.yaml', 'clusters: [a\u0007]\n'), /control character U\+0007/, 1, 13],
    [
      'two documents',
      () => write('two.yaml', 'clusters: []\n---\nclusters: []\n'),
      /a second YAML document starts here/,
      2,
      1,
    ],
    ['tabs', () => write('tab.yaml', 'clusters:\n\t- name: a\n'), /Tabs are not allowed/, 2, 1],
    [
      'merge keys',
      () => write('merge.yaml', 'b: &b {interface: eth0}\nclusters:\n  - <<: *b\n'),
      /merge keys \(<<\) are not supported/,
      3,
      5,
    ],
    ['an alias bomb', () => write('bomb.yaml', aliasBomb.join('\n')), /expand to more than 100 nodes/, 2, 8],
    [
      'deep flow nesting (before parsing)',
      () => write('deep.yaml', 'clusters: ' + '['.repeat(200000) + ']'.repeat(200000)),
      /deeper than 64 levels/,
      1,
      75,
    ],
    [
      'deep nesting (in the tree)',
      () => write('deep40.yaml', 'clusters: ' + '['.repeat(40) + ']'.repeat(40)),
      /deeper than 32 levels/,
      1,
      42,
    ],
    [
      'a duplicate key, with the first one',
      () => write('dup2.yaml', 'clusters: []\nssh: {}\nclusters: []\n'),
      /duplicate key "clusters" \(first at line 1\)/,
      3,
      1,
    ],
    [
      'an unclosed quote, at its start',
      () => write('quote.yaml', 'ssh: { user: "deploy }\nclusters: []\n'),
      /Missing closing "quote/,
      1,
      14,
    ],
    [
      'merge keys under %YAML 1.1',
      () => write('merge11.yaml', '%YAML 1.1\n---\nb: &b {x: 1}\nclusters:\n  - <<: *b\n'),
      /merge keys/,
      5,
      5,
    ],
    ['a custom tag', () => write('tag.yaml', 'clusters:\n  - name: !vault x\n'), /Unresolved tag: !vault/, 2, 11],
    ['only comments', () => write('comments.yaml', '# nothing here\n'), /holds only comments/, 1, 1],
    ['a list', () => write('list.yaml', '- a\n- b\n'), /is a list; the inventory must be a mapping/, 1, 1],
  ])('%s', (_name, file, message, line, col) => {
    const r = loadInventoryFile(file());
    expect(r.inventory).toBeUndefined();
    expect(r.problems[0].message).toMatch(message);
    expect([r.problems[0].line, r.problems[0].col]).toEqual([line, col]);
    expect(r.problems[0].fix).toBeTruthy();
  });
  it('an empty value is located at its key', () => {
    const r = loadInventoryFile(write('emptyval.yaml', 'clusters:\n  - name:\n'));
    const p = r.problems.find((x) => x.path === 'clusters[0].name');
    expect([p?.message, p?.line, p?.col]).toEqual(['expected text, got nothing', 2, 5]);
  });
  it("a BOM is dropped: columns on line 1 are the editor's", () => {
    const r = loadInventoryFile(write('bom.yaml', '\ufeffclusters: []\nvrsion: 1\n'));
    expect(r.problems.map((p) => [p.path, p.line, p.col])).toContainEqual(['clusters', 1, 11]);
  });
  it('100 000 keys: duplicate keys found in linear time, problems capped at 100 and summed up', () => {
    const keys = Array.from({ length: 100000 }, (_, i) => `k${i % 5000}: 1`).join('\n');
    const started = Date.now();
    const r = loadInventoryFile(write('keys.yaml', `clusters: []\n${keys}\n`));
    expect(Date.now() - started).toBeLessThan(20000); // yaml's own uniqueKeys takes minutes here
    expect(r.problems.length).toBe(101);
    expect(r.problems[100].message).toMatch(/more problems not shown/);
  });
  it('a value inside an anchored block is located where it is written, also when used through an alias', () => {
    const text = [
      'clusters:',
      '  - name: a',
      '    backends: &shared',
      '      - { name: w1, address: "10.0.0.5:80" }',
      '  - name: b',
      '    backends: *shared',
    ].join('\n');
    const r = loadInventoryFile(write('alias.yaml', text));
    const at = (path: string) => r.problems.find((p) => p.path === path);
    expect([at('clusters[0].backends[0].address')?.line, at('clusters[1].backends[0].address')?.line]).toEqual([4, 4]);
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
