import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KnownProgramsCache } from '../../../src/remote/known-programs.js';
import { cacheFile } from '../../../src/util/cache-file.js';

const dir = mkdtempSync(join(tmpdir(), 'hactl-known-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const fresh = () => join(dir, `c${++n}`, 'programs.json');

const K = { path: '/usr/sbin/keepalived', id: '2049:131:1000:1700000000', version: '2.2.7' };
const N = { path: '/usr/sbin/nginx', id: '2049:132:2000:1700000001', version: '1.22.1' };

test('where the cache lives: HACTL_CACHE_DIR, XDG_CACHE_HOME, the platform default; empty turns it off', () => {
  expect(cacheFile({ HACTL_CACHE_DIR: '/c', HOME: '/h' })).toBe('/c/programs.json');
  expect(cacheFile({ HACTL_CACHE_DIR: '', HOME: '/h' })).toBeUndefined();
  expect(cacheFile({ XDG_CACHE_HOME: '/x', HOME: '/h' })).toBe('/x/hactl/programs.json');
  expect(cacheFile({ HOME: '/h' }, 'linux')).toBe('/h/.cache/hactl/programs.json');
  expect(cacheFile({ HOME: '/h' }, 'darwin')).toBe('/h/Library/Caches/hactl/programs.json');
  expect(cacheFile({})).toBeUndefined();
});

test('what is remembered is known to the next process, per host, in a file only its owner reads', () => {
  const file = fresh();
  const a = new KnownProgramsCache(file);
  expect(a.known('root@10.0.0.11:22')).toEqual({});
  a.remember('root@10.0.0.11:22', { keepalived: K, nginx: N, curl: { path: '/usr/bin/curl' } });
  a.save();
  expect(statSync(file).mode & 0o777).toBe(0o600);
  const b = new KnownProgramsCache(file);
  expect(b.known('root@10.0.0.11:22')).toEqual({
    keepalived: { id: K.id, version: K.version },
    nginx: { id: N.id, version: N.version },
  });
  expect(b.known('root@10.0.0.12:22')).toEqual({});
  expect(b.known(undefined)).toEqual({});
  expect(readdirSync(join(file, '..'))).toEqual(['programs.json']);
});

test('a program without an identity or a version is not remembered; a host whose programs changed is updated', () => {
  const file = fresh();
  const a = new KnownProgramsCache(file);
  a.remember('h', { keepalived: { path: K.path, version: '2.2.7' }, nginx: { path: N.path, id: N.id } });
  a.save();
  expect(existsSync(file)).toBe(false); // nothing worth keeping, nothing written
  a.remember('h', { keepalived: K, nginx: N });
  a.remember('h', { keepalived: { ...K, id: '2049:140:1001:1700000500', version: '2.3.3' }, nginx: N });
  a.save();
  expect(new KnownProgramsCache(file).known('h').keepalived).toEqual({
    id: '2049:140:1001:1700000500',
    version: '2.3.3',
  });
});

test('a corrupt, foreign or tampered file means nothing is known, and is replaced on the next save', () => {
  const file = fresh();
  mkdirSync(join(file, '..'), { recursive: true });
  for (const text of ['{not json', '[]', JSON.stringify({ format: 99, hosts: { h: { keepalived: K } } })]) {
    writeFileSync(file, text);
    expect(new KnownProgramsCache(file).known('h')).toEqual({});
  }
  // Entries that are not an identity and a version are dropped, one by one.
  writeFileSync(
    file,
    JSON.stringify({
      format: 1,
      hosts: { h: { keepalived: { id: '$(reboot)', version: '2.2.7' }, nginx: { id: N.id, version: '1.22.1' } } },
    }),
  );
  const c = new KnownProgramsCache(file);
  expect(c.known('h')).toEqual({ nginx: { id: N.id, version: '1.22.1' } });
  c.remember('h', { keepalived: K, nginx: N });
  c.save();
  expect(JSON.parse(readFileSync(file, 'utf8')).hosts.h.keepalived).toEqual({ id: K.id, version: K.version });
});

test('a cache that cannot be written is no error, and leaves no temporary file', () => {
  if (process.getuid?.() === 0) {
    // root writes anywhere: a path under a regular file cannot be made by anyone
    const blocker = join(dir, 'blocker');
    writeFileSync(blocker, '');
    const c = new KnownProgramsCache(join(blocker, 'sub', 'programs.json'));
    c.remember('h', { keepalived: K });
    expect(() => c.save()).not.toThrow();
    return;
  }
  const ro = join(dir, 'ro');
  mkdirSync(ro);
  chmodSync(ro, 0o500);
  const c = new KnownProgramsCache(join(ro, 'programs.json'));
  c.remember('h', { keepalived: K });
  expect(() => c.save()).not.toThrow();
  expect(readdirSync(ro)).toEqual([]);
});

test('off (no file): nothing is known or kept', () => {
  const c = new KnownProgramsCache(undefined);
  c.remember('h', { keepalived: K });
  expect(c.known('h')).toEqual({});
  expect(() => c.save()).not.toThrow();
});
