/** Release manifests round-trip, and a cluster's releases as its hosts report them. */
import { formatManifest, newReleaseId, parseManifest, type Manifest } from '../../../src/release/manifest.js';
import { clusterReleases, previousRelease, resolve, type HostView } from '../../../src/release/view.js';
import { parseReleases } from '../../../src/remote/sections/releases.js';
import { fixturePath, loadValid } from '../../helpers/inventory.js';

const cluster = loadValid(fixturePath('active-passive.yaml')).clusters[0];
const R1 = '20261201T100000Z-aaaa';
const R2 = '20261201T110000Z-bbbb';

function manifest(id: string, host: string, plan: Manifest['plan']): Manifest {
  return {
    id,
    time: '2026-12-01T10:00:00Z',
    who: 'ops@laptop\nsecond line',
    hactl: '0.1.0',
    inventory: 'f'.repeat(64),
    cluster: 'web',
    host,
    versions: { keepalived: '2.2.7', nginx: '1.22.1' },
    plan,
    files: [
      {
        path: '/etc/keepalived/keepalived.conf',
        mode: '0600',
        owner: 'root',
        group: 'root',
        service: 'keepalived',
        sha256: 'a'.repeat(64),
      },
    ],
  };
}

const host = (name: string, ms: Manifest[], current?: string): HostView => ({
  host: name,
  releases: { releases: ms, broken: [], history: [], ...(current ? { current } : {}) },
});

test('a manifest round-trips, as one line per field with no line breaks in free text', () => {
  const m = manifest(R1, 'lb1', [
    { host: 'lb1', changed: true },
    { host: 'lb2', changed: false, release: R2 },
  ]);
  const text = formatManifest(m);
  expect(text).toContain('who ops@laptop second line\n');
  const back = parseManifest(text.trimEnd().split('\n'));
  expect(back).toEqual({ ...m, who: 'ops@laptop second line' });
  expect(newReleaseId(new Date('2026-12-01T10:15:00.123Z'), '3fa2')).toBe('20261201T101500Z-3fa2');
  expect(() => parseManifest(['id ../x'])).toThrow(/no valid release id/);
});

test('the section parser reads every manifest, the broken ones by name, current and history', () => {
  const lines = [
    `@release ${R1}`,
    ...formatManifest(manifest(R1, 'lb1', []))
      .trimEnd()
      .split('\n'),
    '@broken 20261201T090000Z-cccc',
    `@current ${R1}`,
    `@history 1796119200 deploy ${R1} ops@laptop`,
  ];
  const r = parseReleases(lines);
  expect(r.releases.map((m) => m.id)).toEqual([R1]);
  expect(r.broken).toEqual(['20261201T090000Z-cccc']);
  expect(r.current).toBe(R1);
  expect(r.history).toEqual([{ at: 1796119200, action: 'deploy', id: R1, who: 'ops@laptop' }]);
});

describe('a cluster view', () => {
  const both = [
    { host: 'lb1', changed: true },
    { host: 'lb2', changed: true },
  ];
  test('both hosts on the newest release: they agree; the previous one is the rollback target', () => {
    const hosts = [
      host('lb1', [manifest(R1, 'lb1', both), manifest(R2, 'lb1', both)], R2),
      host('lb2', [manifest(R1, 'lb2', both), manifest(R2, 'lb2', both)], R2),
    ];
    const v = clusterReleases(cluster, hosts);
    expect(v.current).toBe(R2);
    expect(v.disagreements).toEqual([]);
    expect(previousRelease(v)).toBe(R1);
  });

  test('a host left unchanged by a release stays on the one before, and that agrees', () => {
    const r2 = [
      { host: 'lb1', changed: true },
      { host: 'lb2', changed: false, release: R1 },
    ];
    const hosts = [
      host('lb1', [manifest(R1, 'lb1', both), manifest(R2, 'lb1', r2)], R2),
      host('lb2', [manifest(R1, 'lb2', both)], R1),
    ];
    const v = clusterReleases(cluster, hosts);
    expect(v.disagreements).toEqual([]);
    expect(v.rows[0]).toMatchObject({ id: R2, hosts: ['lb1'], unchanged: ['lb2'], missing: [] });
    expect(resolve(hosts, 'lb2', R2)).toEqual({ release: R1 });
  });

  test('a failed rollout and a removed directory are disagreements, and rollback cannot resolve them', () => {
    const hosts = [host('lb1', [manifest(R1, 'lb1', both)], R1), host('lb2', [manifest(R2, 'lb2', both)], R2)];
    const v = clusterReleases(cluster, hosts);
    expect(v.current).toBe(R2);
    expect(v.rows.find((r) => r.id === R2)!.missing).toEqual(['lb1']);
    expect(v.disagreements.join('\n')).toMatch(/lb1 has no release 20261201T110000Z-bbbb/);
    expect(resolve(hosts, 'lb2', R1)).toEqual({ problem: expect.stringMatching(/lb2 has no release .*is not there/) });
  });
});
