/**
 * The host sections, each run by a real sh: against files under a temporary root (files,
 * managed, notify, os), and against this machine itself (net, procs, sysctl, programs).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { factsSections, hostFacts } from '../../../src/remote/facts.js';
import { joinSections, parseSections, type Section } from '../../../src/remote/section.js';
import { filesSection, managedSection, untar } from '../../../src/remote/sections/files.js';
import {
  netSection,
  notifySection,
  osSection,
  procsSection,
  programsSection,
  sysctlSection,
} from '../../../src/remote/sections/host.js';
import { render } from '../../../src/remote/script.js';

const root = mkdtempSync(join(tmpdir(), 'hactl-sections-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const put = (path: string, content: string | Buffer, mode = 0o644) => {
  mkdirSync(join(root, path, '..'), { recursive: true });
  writeFileSync(join(root, path), content);
  chmodSync(join(root, path), mode);
};
const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
const LONG = `/etc/${'a'.repeat(120)}/keepalived.conf`;
put('/etc/nginx/conf.d/hactl-web.conf', 'server { listen 80; }\n');
put('/etc/nginx/conf.d/hactl-old.conf', 'upstream old {}\n');
put('/etc/nginx/conf.d/default.conf', 'not ours\n');
put(LONG, 'vrrp_instance v { virtual_router_id 51 }\n');
put('/etc/bin.dat', Buffer.from([0, 1, 2, 255, 254]), 0o640);
put('/etc/os-release', 'NAME="Debian GNU/Linux"\nID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n');
put('/run/hactl/vrrp/vip1', 'MASTER 150 1764600000\n');
put('/run/hactl/vrrp/.vip1.seq', '123 456\n');

function runSections<S extends readonly Section<unknown>[]>(sections: S, r = root, path = process.env.PATH) {
  const out = execFileSync('sh', ['-c', render(joinSections(sections), r)], { encoding: 'utf8', env: { PATH: path } });
  return parseSections(sections, out);
}

describe('files and managed, under a root', () => {
  const paths = ['/etc/nginx/conf.d/hactl-web.conf', LONG, '/etc/missing.conf', '/etc/bin.dat'];
  const [files] = runSections([filesSection(paths)] as const);

  test('existing files (long names included) in one tar stream; hashes are of the bytes; absent ones say so', () => {
    expect(files['/etc/nginx/conf.d/hactl-web.conf']).toMatchObject({
      exists: true,
      content: 'server { listen 80; }\n',
      sha256: sha('server { listen 80; }\n'),
      mode: '0644',
    });
    expect(files[LONG].sha256).toBe(sha('vrrp_instance v { virtual_router_id 51 }\n'));
    expect(files['/etc/bin.dat']).toMatchObject({ sha256: sha(Buffer.from([0, 1, 2, 255, 254])), mode: '0640' });
    expect(files['/etc/missing.conf']).toEqual({ exists: false });
    expect(files['/etc/bin.dat'].owner).toBe(execFileSync('id', ['-un'], { encoding: 'utf8' }).trim());
  });

  test('without tar on PATH the stat/base64 fallback gives the same facts', () => {
    const bin = join(root, '.bin');
    mkdirSync(bin, { recursive: true });
    for (const p of ['sh', 'stat', 'base64', 'cat', 'mkdir', 'sha256sum'])
      execFileSync('sh', ['-c', `ln -sf "$(command -v ${p})" ${bin}/${p}`]);
    const [fallback] = runSections([filesSection(paths)] as const, root, bin);
    expect(fallback).toEqual(files);
  });

  test("managed lists hactl's own nginx files only", () => {
    expect(runSections([managedSection('/etc/nginx/conf.d')] as const)[0]).toEqual([
      '/etc/nginx/conf.d/hactl-old.conf',
      '/etc/nginx/conf.d/hactl-web.conf',
    ]);
  });

  test('an empty tar is empty; a pax path record names the file', () => {
    expect(untar(Buffer.alloc(1024)).size).toBe(0);
    const pax = execFileSync('sh', ['-c', `tar --format=pax -C ${root} -cf - ${LONG.slice(1)} | base64 -w0`], {
      encoding: 'utf8',
    });
    expect([...untar(Buffer.from(pax, 'base64')).keys()]).toEqual([LONG]);
  });
});

describe('os and notify, under a root', () => {
  test('os-release, the package manager and the service manager', () => {
    const [os] = runSections([osSection] as const);
    expect(os).toMatchObject({ id: 'debian', version: '12', codename: 'bookworm' });
    expect(['sysvinit', 'systemd', 'openrc']).toContain(os.serviceManager);
  });

  test('the notify states, not the ordering files', () => {
    expect(runSections([notifySection] as const)[0]).toEqual({
      vip1: { state: 'MASTER', priority: 150, since: 1764600000 },
    });
  });
});

describe('programs: a version is asked once per binary identity', () => {
  // Fake keepalived and nginx that print their versions and count each time they are asked.
  const bin = mkdtempSync(join(tmpdir(), 'hactl-bin-'));
  afterAll(() => rmSync(bin, { recursive: true, force: true }));
  const log = join(bin, 'asked');
  const fake = (name: string, line: string) => {
    writeFileSync(join(bin, name), `#!/bin/sh\necho ${name} >> ${log}\necho '${line}' >&2\n`);
    chmodSync(join(bin, name), 0o755);
  };
  fake('keepalived', 'Keepalived v2.2.7 (01/16,2022)');
  fake('nginx', 'nginx version: nginx/1.22.1');
  const path = `${bin}:${process.env.PATH}`;
  const asked = () => {
    try {
      return execFileSync('cat', [log], { encoding: 'utf8' }).trim().split('\n').filter(Boolean);
    } catch {
      return [];
    }
  };
  const read = (known?: Parameters<typeof programsSection>[1]) => {
    rmSync(log, { force: true });
    return runSections([programsSection(['nginx'], known)] as const, '', path)[0];
  };

  test('nothing known: both are asked, and each comes back with its identity', () => {
    const p = read();
    expect(asked()).toEqual(['keepalived', 'nginx']);
    expect(p.keepalived).toMatchObject({ path: join(bin, 'keepalived'), version: '2.2.7' });
    expect(p.nginx).toMatchObject({ path: join(bin, 'nginx'), version: '1.22.1' });
    expect(p.keepalived?.id).toMatch(/^\d+:\d+:\d+:\d+$/);
    expect(p.nginx?.id).not.toBe(p.keepalived?.id);
  });

  test('the identities known: neither is run, and the known versions are taken', () => {
    const first = read();
    const p = read({
      keepalived: { id: first.keepalived!.id!, version: '2.2.7' },
      nginx: { id: first.nginx!.id!, version: '1.22.1' },
    });
    expect(asked()).toEqual([]);
    expect(p.keepalived).toEqual(first.keepalived);
    expect(p.nginx).toEqual(first.nginx);
  });

  test('a binary replaced (an upgrade) has a new identity: it is asked, and its new version wins', () => {
    const first = read();
    const known = {
      keepalived: { id: first.keepalived!.id!, version: '2.2.7' },
      nginx: { id: first.nginx!.id!, version: '1.22.1' },
    };
    // As dpkg does: the new file is written beside the old one, then renamed over it.
    writeFileSync(join(bin, 'nginx.new'), `#!/bin/sh\necho nginx >> ${log}\necho 'nginx version: nginx/1.26.3' >&2\n`);
    chmodSync(join(bin, 'nginx.new'), 0o755);
    execFileSync('mv', [join(bin, 'nginx.new'), join(bin, 'nginx')]);
    const p = read(known);
    expect(asked()).toEqual(['nginx']);
    expect(p.nginx?.version).toBe('1.26.3');
    expect(p.nginx?.id).not.toBe(known.nginx.id);
    expect(p.keepalived?.version).toBe('2.2.7');
  });

  test('found as running them would: the first executable file on PATH; empty entries, directories and non-executables skipped', () => {
    const decoys = mkdtempSync(join(tmpdir(), 'hactl-decoy-'));
    try {
      mkdirSync(join(decoys, 'keepalived')); // a directory of that name
      writeFileSync(join(decoys, 'nginx'), '#!/bin/sh\necho decoy\n'); // not executable
      chmodSync(join(decoys, 'nginx'), 0o644);
      writeFileSync(join(decoys, 'curl'), '#!/bin/sh\n');
      chmodSync(join(decoys, 'curl'), 0o755);
      rmSync(log, { force: true });
      // An empty entry (`::`) is not taken as the current directory, where a `keepalived` also waits.
      const cwdDecoy = execFileSync('sh', ['-c', `cd ${decoys}/keepalived && pwd`], { encoding: 'utf8' }).trim();
      writeFileSync(join(cwdDecoy, 'keepalived'), '#!/bin/sh\n');
      chmodSync(join(cwdDecoy, 'keepalived'), 0o755);
      const out = execFileSync('sh', ['-c', render(joinSections([programsSection(['nginx'])]), '')], {
        encoding: 'utf8',
        env: { PATH: `${decoys}::${bin}:/usr/bin:/bin` },
        cwd: cwdDecoy,
      });
      const [p] = parseSections([programsSection(['nginx'])] as const, out);
      expect(p.keepalived?.path).toBe(join(bin, 'keepalived'));
      expect(p.nginx?.path).toBe(join(bin, 'nginx'));
      expect(p.curl?.path).toBe(join(decoys, 'curl'));
      expect(asked()).toEqual(['keepalived', 'nginx']);
    } finally {
      rmSync(decoys, { recursive: true, force: true });
    }
  });

  test('a program not installed: no path, no identity, nothing run for it', () => {
    const only = mkdtempSync(join(tmpdir(), 'hactl-only-'));
    try {
      execFileSync('cp', [join(bin, 'keepalived'), join(only, 'keepalived')]);
      rmSync(log, { force: true });
      // /usr/bin and /bin for stat and head; this machine's nginx (if any) is in /usr/sbin.
      const p = runSections([programsSection(['nginx'])] as const, '', `${only}:/usr/bin:/bin`)[0];
      expect(p.nginx).toBeUndefined();
      expect(p.keepalived).toMatchObject({ path: join(only, 'keepalived'), version: '2.2.7' });
      expect(p.keepalived?.id).toMatch(/^\d+:\d+:\d+:\d+$/);
      expect(asked()).toEqual(['keepalived']);
    } finally {
      rmSync(only, { recursive: true, force: true });
    }
  });

  test('both identities from one stat process', () => {
    const wrap = mkdtempSync(join(tmpdir(), 'hactl-stat-'));
    try {
      const stats = join(wrap, 'stats');
      const real = execFileSync('sh', ['-c', 'command -v stat'], { encoding: 'utf8' }).trim();
      writeFileSync(join(wrap, 'stat'), `#!/bin/sh\necho "$#" >> ${stats}\nexec ${real} "$@"\n`);
      chmodSync(join(wrap, 'stat'), 0o755);
      const first = read();
      rmSync(log, { force: true });
      const p = runSections(
        [
          programsSection(['nginx'], {
            keepalived: { id: first.keepalived!.id!, version: '2.2.7' },
            nginx: { id: first.nginx!.id!, version: '1.22.1' },
          }),
        ] as const,
        '',
        `${wrap}:${path}`,
      )[0];
      expect(p.nginx?.id).toBe(first.nginx?.id);
      expect(p.keepalived?.id).toBe(first.keepalived?.id);
      expect(asked()).toEqual([]);
      // one call: -L -c FORMAT -- keepalived nginx
      expect(execFileSync('cat', [stats], { encoding: 'utf8' })).toBe('6\n');
    } finally {
      rmSync(wrap, { recursive: true, force: true });
    }
  });

  test('a known identity for another program or a wrong one is not trusted', () => {
    const first = read();
    const p = read({
      keepalived: { id: first.nginx!.id!, version: '9.9.9' },
      nginx: { id: '1:2:3:4', version: '9.9.9' },
    });
    expect(asked()).toEqual(['keepalived', 'nginx']);
    expect(p.keepalived?.version).toBe(first.keepalived?.version);
    expect(p.nginx?.version).toBe(first.nginx?.version);
  });
});

describe('this machine', () => {
  const [net, procs, sysctl, programs] = runSections(
    [netSection, procsSection, sysctlSection(['net.ipv4.ip_nonlocal_bind']), programsSection()] as const,
    '',
  );

  test('links and addresses from one ip process, as ip -o link names them', () => {
    expect(net.addresses).toContainEqual(expect.objectContaining({ iface: 'lo', family: 4, cidr: '127.0.0.1/8' }));
    const links = execFileSync('ip', ['-o', 'link', 'show'], { encoding: 'utf8' })
      .trim()
      .split('\n')
      .map((l) => l.split(':')[1].trim().split('@')[0]);
    expect(net.links).toEqual(links);
  });

  test('processes, sysctl and programs', () => {
    expect(typeof procs.keepalived).toBe('boolean');
    expect(sysctl['net.ipv4.ip_nonlocal_bind']).toMatch(/^[01]$/);
    if (execFileSync('sh', ['-c', 'command -v curl || true'], { encoding: 'utf8' }).trim())
      expect(programs.curl?.path).toMatch(/curl$/);
    if (programs.nginx) expect(programs.nginx.version).toMatch(/^\d+\.\d+\.\d+$/);
    if (programs.keepalived) expect(programs.keepalived.version).toMatch(/^\d+\.\d+\.\d+$/);
  });

  test('the whole facts set in one exec', () => {
    const f = hostFacts(runSections(factsSections({ files: ['/etc/bin.dat'], sysctl: [], statusPort: 1 }), root));
    expect(f.files['/etc/bin.dat'].exists).toBe(true);
    expect(f.os.id).toBe('debian');
  });
});
