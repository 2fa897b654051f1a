import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { factsScript, parseFacts, untar } from '../../../src/facts/host-facts.js';

const dir = mkdtempSync(join(tmpdir(), 'hactl-facts-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const long = join(dir, 'a'.repeat(120), 'keepalived.conf');
execFileSync('mkdir', ['-p', join(dir, 'a'.repeat(120))]);
writeFileSync(join(dir, 'nginx.conf'), 'server { listen 80; }\n');
writeFileSync(long, 'vrrp_instance v { virtual_router_id 51 }\n');
writeFileSync(join(dir, 'bin.dat'), Buffer.from([0, 1, 2, 255, 254]));
chmodSync(join(dir, 'bin.dat'), 0o640);
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');

describe('factsScript, run by a real sh against real files', () => {
  const files = [join(dir, 'nginx.conf'), long, join(dir, 'missing.conf'), join(dir, 'bin.dat')];
  const out = execFileSync('sh', ['-c', factsScript({ files, statusPort: 1 })], { encoding: 'utf8' });
  const facts = parseFacts(out);

  test('reads existing files (long paths included) in one tar stream; hashes are of the bytes', () => {
    expect(facts.files[join(dir, 'nginx.conf')]).toMatchObject({
      exists: true,
      content: 'server { listen 80; }\n',
      sha256: sha('server { listen 80; }\n'),
    });
    expect(facts.files[long]).toMatchObject({
      exists: true,
      sha256: sha('vrrp_instance v { virtual_router_id 51 }\n'),
    });
    expect(facts.files[join(dir, 'bin.dat')].sha256).toBe(sha(Buffer.from([0, 1, 2, 255, 254])));
    expect(facts.files[join(dir, 'missing.conf')]).toEqual({ exists: false });
    expect(facts.files[join(dir, 'nginx.conf')].mode).toMatch(/^0[0-7]{3}$/);
    expect(facts.files[join(dir, 'nginx.conf')].owner).toBe(execFileSync('id', ['-un'], { encoding: 'utf8' }).trim());
  });

  test('mode, owner and group come from the tar headers, as stat reports them', () => {
    for (const f of files.filter((p) => !p.endsWith('missing.conf'))) {
      const [mode, owner, group] = execFileSync('stat', ['-c', '%a %U %G', f], { encoding: 'utf8' }).trim().split(' ');
      expect(facts.files[f]).toMatchObject({ mode: mode.padStart(4, '0'), owner, group });
    }
    expect(facts.files[join(dir, 'bin.dat')].mode).toBe('0640');
  });

  test('addresses and links come from one ip process: lo is a link and holds 127.0.0.1', () => {
    expect(facts.addresses).toContainEqual(expect.objectContaining({ iface: 'lo', family: 4, cidr: '127.0.0.1/8' }));
    expect(facts.links).toEqual(
      execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' })
        .trim()
        .split('\n')
        .map((l) => l.split(':')[1].trim().split('@')[0]),
    );
  });

  test('links come from ip -o link (names without @peer), packages from PATH', () => {
    expect(facts.links).toContain('lo');
    expect(facts.links.every((l) => !l.includes('@') && !l.includes(':'))).toBe(true);
    expect(facts.packages).toHaveProperty('curl', true);
  });

  test('an incomplete output is refused', () => {
    expect(() => parseFacts(out.replace('@@end', ''))).toThrow(/incomplete/);
  });
});

describe('untar', () => {
  test('a tar with nothing in it is empty', () => {
    expect(untar(Buffer.alloc(1024)).size).toBe(0);
  });
});
