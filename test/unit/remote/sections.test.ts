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
