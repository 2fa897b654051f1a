/**
 * Host facts: one script gathers everything deploy, verify and status need from a load
 * balancer in a single round trip, and a pure parser turns its output into HostFacts.
 */
import { createHash } from 'node:crypto';
import { sh } from '../shell/quote.js';

export type ServiceManager = 'systemd' | 'openrc' | 'sysvinit';
export type PackageManager = 'apt-get' | 'dnf' | 'yum';

export interface RemoteFile {
  exists: boolean;
  mode?: string;
  owner?: string;
  group?: string;
  sha256?: string;
  content?: string;
}

export interface HostAddress {
  iface: string;
  family: 4 | 6;
  /** address/prefix */
  cidr: string;
  label?: string;
}

export interface VrrpStateFile {
  state: string;
  priority: number;
  since: number;
}

export interface HostFacts {
  os: { id: string; like: string; version: string };
  family: 'debian' | 'rhel' | 'other';
  packageManager?: PackageManager;
  serviceManager: ServiceManager;
  packages: Record<string, boolean>;
  sysctl: Record<string, string>;
  links: string[];
  addresses: HostAddress[];
  files: Record<string, RemoteFile>;
  running: { keepalived: boolean; nginx: boolean };
  vrrp: Record<string, VrrpStateFile>;
  /** Body of the nginx status endpoint, when it answered. */
  nginxStatus?: string;
  /** Firewall rules mentioning VRRP (protocol 112 / vrrp / 224.0.0.18), for split-brain diagnosis. */
  firewall: string[];
  nginxTest?: { ok: boolean; output: string };
  probes: ProbeResult[];
  /** hactl's nginx files on the host (/etc/nginx/conf.d/hactl-*.conf), rendered or not. */
  managed: string[];
}

export const MANAGED_PACKAGES = ['keepalived', 'nginx', 'curl'];

export interface HttpProbe {
  id: string;
  ip: string;
  port: number;
  host: string;
  path: string;
}

export interface ProbeResult {
  id: string;
  /** HTTP status, 0 when no answer. */
  status: number;
  ms: number;
  /** The response's X-Hactl-Upstream header (which backend answered), when present. */
  upstream?: string;
}

export interface FactsRequest {
  files: string[];
  statusPort: number;
  /** Also list firewall rules that touch VRRP (verify's split-brain diagnosis). */
  firewall?: boolean;
  /** Run `nginx -t` and report its exit code and output. */
  nginxTest?: boolean;
  /** HTTP requests made from the host (curl), in parallel. */
  probes?: HttpProbe[];
}

/**
 * The facts script: POSIX sh, read-only, runs as root. Sections start with @@name. Every
 * process a host forks costs (on a busy or small host, tens of milliseconds each), so the
 * script uses shell builtins where it can and one process per kind of fact where it cannot:
 * one package query, one `stat` and one `tar | base64` for all managed files (hashes are
 * computed here, from the bytes), /proc read with `read` instead of pidof.
 */
export function factsScript(req: FactsRequest): string {
  const files = req.files.map((f) => sh([f])).join(' ');
  const pkgs = MANAGED_PACKAGES.join(' ');
  const lines = [
    'echo @@os; if [ -r /etc/os-release ]; then . /etc/os-release; fi; echo "id=${ID:-}"; echo "like=${ID_LIKE:-}"; echo "version=${VERSION_ID:-}"',
    'echo @@pm; for p in apt-get dnf yum; do if command -v $p >/dev/null 2>&1; then echo $p; break; fi; done',
    'echo @@sm; if [ -d /run/systemd/system ]; then echo systemd; elif command -v rc-service >/dev/null 2>&1; then echo openrc; else echo sysvinit; fi',
    // A managed program counts as installed when it is on root's PATH (a package or a local
    // build alike: hactl never replaces a working install). No dpkg/rpm database read, which
    // costs a few hundred milliseconds on a busy host; apply installs whatever is missing.
    `echo @@pkgs; PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH; for p in ${pkgs}; do if command -v $p >/dev/null 2>&1; then echo "$p 1"; else echo "$p 0"; fi; done`,
    'echo @@sysctl; for k in ipv4/ip_nonlocal_bind ipv6/ip_nonlocal_bind; do if [ -r /proc/sys/net/$k ]; then read -r v < /proc/sys/net/$k; echo "$k $v"; fi; done',
    // Links and addresses from one `ip` process (its batch mode); parseFacts tells the lines apart.
    "echo @@ip; printf 'link show\\naddr show\\n' | ip -o -batch -",
    // Existing files: their bytes, mode and owner in one tar stream (the tar headers carry mode,
    // user and group; no stat); without tar or base64, a stat and a base64 per file.
    `echo @@files; set --; for f in ${files}; do if [ -f "$f" ]; then set -- "$@" "$f"; echo "$f 1"; else echo "$f 0"; fi; done`,
    'if [ $# -gt 0 ]; then if command -v tar >/dev/null 2>&1 && command -v base64 >/dev/null 2>&1; then echo @@tar; tar -chPf - -- "$@" 2>/dev/null | base64 -w0; echo; else stat -L -c \'%n 1 %a %U %G\' -- "$@"; echo @@filedata; for f in "$@"; do echo "$f $(sha256sum < "$f" | cut -d\' \' -f1) $(base64 -w0 < "$f")"; done; fi; fi',
    'echo @@managed; for f in /etc/nginx/conf.d/hactl-*.conf; do if [ -f "$f" ]; then echo "$f"; fi; done',
    'echo @@procs; k=0; n=0; for c in /proc/[0-9]*/comm; do read -r x < "$c" 2>/dev/null || continue; case "$x" in keepalived) k=1;; nginx) n=1;; esac; done; echo "keepalived $k"; echo "nginx $n"',
    'echo @@vrrp; for f in /run/hactl/vrrp/*; do if [ -f "$f" ]; then read -r l < "$f"; echo "${f##*/} $l"; fi; done',
    `echo @@status; if [ $n = 1 ] && command -v curl >/dev/null 2>&1; then curl -fsS -m 1 http://127.0.0.1:${req.statusPort}/hactl-health 2>/dev/null; fi; echo`,
  ];
  if (req.firewall)
    lines.push(
      "echo @@firewall; { iptables-save 2>/dev/null; nft list ruleset 2>/dev/null; } | grep -Ei -- '-p (112|vrrp)|protocol (112|vrrp)|ip protocol vrrp|224\\.0\\.0\\.18|vrrp' || true",
    );
  if (req.nginxTest)
    lines.push(
      'echo @@nginxt; if command -v nginx >/dev/null 2>&1; then nginx -t 2>&1; echo "exit=$?"; else echo "nginx: not installed"; echo exit=127; fi',
    );
  if (req.probes?.length) {
    lines.push('echo @@probes; d=$(mktemp -d)');
    for (const p of req.probes) {
      const url = `http://${p.ip.includes(':') ? `[${p.ip}]` : p.ip}:${p.port}${p.path}`;
      lines.push(
        `( curl -s -o /dev/null -D "$d/${p.id}.h" -m 2 -w '%{http_code} %{time_total}' -H ${sh([`Host: ${p.host}`])} ${sh([url])} > "$d/${p.id}" 2>/dev/null ) &`,
      );
    }
    lines.push('wait');
    for (const p of req.probes)
      lines.push(
        `echo "${p.id} $(cat "$d/${p.id}") $(grep -i '^x-hactl-upstream:' "$d/${p.id}.h" 2>/dev/null | tr -d '\r' | cut -d' ' -f2)"`,
      );
    lines.push('rm -rf "$d"');
  }
  lines.push('echo @@end');
  return lines.join('\n');
}

export interface TarEntry {
  bytes: Buffer;
  /** Permission bits, four octal digits ("0644"). */
  mode: string;
  owner: string;
  group: string;
}

/** The regular files of a tar stream (ustar or GNU, long names included), by absolute path. */
export function untar(data: Buffer): Map<string, TarEntry> {
  const out = new Map<string, TarEntry>();
  const str = (b: Buffer) => b.toString('utf8').replace(/\0.*$/s, '');
  const octal = (b: Buffer) => parseInt(str(b).trim() || '0', 8);
  let longName: string | undefined;
  for (let off = 0; off + 512 <= data.length;) {
    const h = data.subarray(off, off + 512);
    if (h.every((b) => b === 0)) break;
    const size = octal(h.subarray(124, 136));
    const type = String.fromCharCode(h[156] || 48);
    const body = data.subarray(off + 512, off + 512 + size);
    off += 512 + Math.ceil(size / 512) * 512;
    if (type === 'L') {
      longName = str(body);
      continue;
    }
    const prefix = str(h.subarray(345, 500));
    const name =
      longName ??
      (prefix && str(h.subarray(257, 263)).startsWith('ustar') && h[263] === 48
        ? `${prefix}/${str(h.subarray(0, 100))}`
        : str(h.subarray(0, 100)));
    longName = undefined;
    if (type !== '0' && type !== '\0') continue;
    out.set(name.startsWith('/') ? name : `/${name}`, {
      bytes: Buffer.from(body),
      mode: (octal(h.subarray(100, 108)) & 0o7777).toString(8).padStart(4, '0'),
      // User and group names, or the numeric ids when the host has no name for them.
      owner: str(h.subarray(265, 297)) || String(octal(h.subarray(108, 116))),
      group: str(h.subarray(297, 329)) || String(octal(h.subarray(116, 124))),
    });
  }
  return out;
}

function sections(output: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of output.split('\n')) {
    const m = line.match(/^@@(\w+)$/);
    if (m) {
      current = [];
      out.set(m[1], current);
    } else if (current && line.trim() !== '') current.push(line);
  }
  return out;
}

export function parseFacts(output: string): HostFacts {
  const s = sections(output);
  if (!s.has('end')) throw new Error('facts output is incomplete (the script did not finish)');
  const kv = Object.fromEntries(
    (s.get('os') ?? []).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1).replace(/^"|"$/g, '')]),
  );
  const os = { id: kv.id ?? '', like: kv.like ?? '', version: kv.version ?? '' };
  const ids = `${os.id} ${os.like}`;
  const family = /debian|ubuntu/.test(ids)
    ? 'debian'
    : /rhel|fedora|centos|rocky|almalinux/.test(ids)
      ? 'rhel'
      : 'other';
  const pm = s.get('pm')?.[0];
  const files: Record<string, RemoteFile> = {};
  const fileData = (path: string, bytes: Buffer) => {
    const f = files[path];
    if (f?.exists)
      Object.assign(f, { sha256: createHash('sha256').update(bytes).digest('hex'), content: bytes.toString('utf8') });
  };
  // "path 0" (absent), "path 1" (exists; mode and owner from the tar headers), or stat's
  // "path 1 mode owner group" where there is no tar.
  for (const line of s.get('files') ?? []) {
    const [path, exists, mode, owner, group, sha256, b64] = line.split(' ');
    files[path] =
      exists !== '1'
        ? { exists: false }
        : mode
          ? { exists: true, mode: mode.padStart(4, '0'), owner, group }
          : { exists: true };
    if (exists === '1' && sha256)
      Object.assign(files[path], { sha256, content: Buffer.from(b64 ?? '', 'base64').toString('utf8') });
  }
  const tar = (s.get('tar') ?? []).join('');
  if (tar)
    for (const [path, e] of untar(Buffer.from(tar, 'base64'))) {
      if (files[path]?.exists) Object.assign(files[path], { mode: e.mode, owner: e.owner, group: e.group });
      fileData(path, e.bytes);
    }
  for (const line of s.get('filedata') ?? []) {
    const [path, , b64] = line.split(' ');
    fileData(path, Buffer.from(b64 ?? '', 'base64'));
  }
  // `ip -o -batch` prints link lines ("2: eth0@if7: <BROADCAST,...") and address lines
  // ("2: eth0    inet 10.0.0.11/24 ..."); older callers send them as separate sections.
  const ipLines = s.get('ip') ?? [];
  const linkLine = (l: string) => /^\d+:\s+\S+:\s+</.test(l);
  const linkLines = [...(s.get('links') ?? []), ...ipLines.filter(linkLine)];
  const addresses: HostAddress[] = [];
  for (const line of [...(s.get('addr') ?? []), ...ipLines.filter((l) => !linkLine(l))]) {
    const m = line.match(/^\d+:\s+(\S+)\s+(inet6?)\s+(\S+)(.*)$/);
    if (!m) continue;
    const label = m[4].match(/ scope \S+ (?:secondary )?(?:dynamic )?(?:noprefixroute )?(\S+:\S+)/)?.[1];
    addresses.push({ iface: m[1], family: m[2] === 'inet' ? 4 : 6, cidr: m[3], label });
  }
  const vrrp: Record<string, VrrpStateFile> = {};
  for (const line of s.get('vrrp') ?? []) {
    const [name, state, priority, since] = line.split(' ');
    vrrp[name] = { state, priority: Number(priority), since: Number(since) };
  }
  const flag = (section: string) =>
    Object.fromEntries((s.get(section) ?? []).map((l) => l.split(' ')).map(([k, v]) => [k, v === '1']));
  const procs = flag('procs');
  const status = (s.get('status') ?? []).join('\n').trim();
  return {
    os,
    family,
    packageManager: pm === 'apt-get' || pm === 'dnf' || pm === 'yum' ? pm : undefined,
    serviceManager: (s.get('sm')?.[0] as ServiceManager) ?? 'sysvinit',
    packages: flag('pkgs'),
    sysctl: Object.fromEntries((s.get('sysctl') ?? []).map((l) => l.split(' '))),
    // `ip -o link show` lines ("2: eth0@if7: <...") or bare names.
    links: linkLines.map((l) => (/^\d+:\s/.test(l) ? l.split(':')[1].trim().split('@')[0] : l.trim())),
    addresses,
    files,
    running: { keepalived: procs.keepalived ?? false, nginx: procs.nginx ?? false },
    vrrp,
    nginxStatus: status || undefined,
    firewall: s.get('firewall') ?? [],
    nginxTest: s.has('nginxt')
      ? {
          ok: /^exit=0$/m.test(s.get('nginxt')!.join('\n')),
          output: s
            .get('nginxt')!
            .filter((l) => !l.startsWith('exit='))
            .join('\n'),
        }
      : undefined,
    managed: s.get('managed') ?? [],
    probes: (s.get('probes') ?? []).map((l) => {
      const [id, status, secs, upstream] = l.split(' ');
      return { id, status: Number(status) || 0, ms: Math.round(Number(secs) * 1000), upstream: upstream || undefined };
    }),
  };
}

/** Which addresses of a VIP list a host holds right now. */
export function holds(facts: HostFacts, ip: string): boolean {
  return facts.addresses.some((a) => a.cidr.split('/')[0] === ip);
}
