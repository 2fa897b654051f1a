/**
 * The real validators, run on rendered files: `keepalived -t` sees the files at their real
 * paths through a bind mount in a private mount namespace (its script security checks need
 * them there), and `nginx -t` runs in a private network namespace with ip_nonlocal_bind=1,
 * because it binds the VIP listeners. Linux + root, as in CI.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HostRender } from '../../src/render/render.js';
import { HOST_PATHS } from '../../src/remote/paths.js';

export interface ValidatorResult {
  ok: boolean;
  output: string;
}

function run(cmd: string, args: string[]): ValidatorResult {
  try {
    const out = execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    return { ok: true, output: out };
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string };
    return { ok: false, output: `${err.stdout ?? ''}${err.stderr ?? ''}` };
  }
}

/** Interfaces the host's keepalived.conf names besides its VRRP interface. */
function linksOf(r: HostRender): string[] {
  const text = r.files.find((f) => f.path.endsWith('keepalived.conf'))?.content ?? '';
  const out = [...text.matchAll(/ dev (\S+)/g), ...text.matchAll(/^\s+interface (\S+)$/gm)].map((m) => m[1]);
  for (const block of text.matchAll(/track_interface \{\n([^}]*)\}/g))
    out.push(
      ...block[1]
        .split('\n')
        .flatMap((l) => l.trim().split(/\s+/).slice(0, 1))
        .filter(Boolean),
    );
  return out;
}

export function keepalivedCheck(r: HostRender): ValidatorResult {
  const dir = mkdtempSync(join(tmpdir(), 'hactl-kt-'));
  for (const f of r.files.filter((x) => x.path.startsWith('/etc/keepalived/'))) {
    const p = join(dir, f.path.slice('/etc/keepalived/'.length));
    writeFileSync(p, f.content);
    chmodSync(p, parseInt(f.mode, 8));
  }
  chmodSync(dir, 0o755);
  // keepalived -t checks that every interface it names exists (the VRRP one, tracked links,
  // an address's dev): give it them in a private netns.
  const links = [...new Set([r.lb.interface, ...linksOf(r)])];
  const link = links
    .map((l, i) => `ip link add ${l} type veth peer name hactl-peer${i} && ip link set ${l} up`)
    .join(' && ');
  try {
    return run('unshare', [
      '-m',
      '-n',
      'sh',
      '-c',
      `${link} && mount --bind ${dir} /etc/keepalived && keepalived -t -f /etc/keepalived/keepalived.conf 2>&1`,
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function nginxCheck(r: HostRender): ValidatorResult {
  const dir = mkdtempSync(join(tmpdir(), 'hactl-nt-'));
  mkdirSync(join(dir, 'conf.d'));
  mkdirSync(join(dir, 'tls'));
  const includes: string[] = [];
  // Certificates and keys go under the temp dir, and the site files point there instead.
  const tlsDir = (text: string) => text.split(`${HOST_PATHS.tlsDir}/`).join(`${dir}/tls/`);
  for (const f of r.files.filter((x) => x.path.startsWith(`${HOST_PATHS.tlsDir}/`)))
    writeFileSync(join(dir, 'tls', f.path.split('/').pop()!), f.content, { mode: 0o600 });
  for (const f of r.files.filter((x) => x.path.startsWith('/etc/nginx/'))) {
    const p = join(dir, 'conf.d', f.path.split('/').pop()!);
    writeFileSync(p, tlsDir(f.content));
    includes.push(`include ${p};`);
  }
  writeFileSync(
    join(dir, 'nginx.conf'),
    `pid ${dir}/nginx.pid;\nerror_log ${dir}/error.log;\nevents {}\nhttp {\n  access_log off;\n  ${includes.join('\n  ')}\n}\n`,
  );
  const sysctls = r.files.some((f) => f.content.includes('net.ipv6.ip_nonlocal_bind'))
    ? 'sysctl -qw net.ipv4.ip_nonlocal_bind=1 net.ipv6.ip_nonlocal_bind=1'
    : 'sysctl -qw net.ipv4.ip_nonlocal_bind=1';
  try {
    return run('unshare', [
      '-n',
      'sh',
      '-c',
      `ip link set lo up; ${sysctls} && nginx -t -c ${dir}/nginx.conf -p ${dir} 2>&1`,
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
