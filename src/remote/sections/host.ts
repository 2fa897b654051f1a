/**
 * Sections that read a load balancer's own state: OS and managers, the programs hactl
 * manages (and their versions), sysctl, links and addresses, files, processes, the notify
 * script's VRRP states, nginx's status endpoint and `nginx -t`. Every process a host forks
 * costs (tens of milliseconds on a busy host), so these use shell builtins where they can and
 * one process per kind of fact where they cannot.
 */
import { HOST_PATHS } from '../paths.js';
import { cmd, hostPath, raw, script, type HostPath, type Shell } from '../script.js';
import { section, type Section } from '../section.js';

export type ServiceManager = 'systemd' | 'openrc' | 'sysvinit';
export type PackageManager = 'apt-get' | 'dnf' | 'yum';

export interface OsFacts {
  id: string;
  like: string;
  version: string;
  codename: string;
  packageManager?: PackageManager;
  serviceManager: ServiceManager;
}

/** /etc/os-release read with `read` (no process), then the first package manager found. */
export const osSection: Section<OsFacts> = section(
  'os',
  script(
    cmd`if [ -r ${hostPath(HOST_PATHS.osRelease)} ]; then while IFS= read -r os_l; do case "$os_l" in ID=*|ID_LIKE=*|VERSION_ID=*|VERSION_CODENAME=*) echo "$os_l";; esac; done < ${hostPath(HOST_PATHS.osRelease)}; fi`,
    raw('for os_p in apt-get dnf yum; do if command -v $os_p >/dev/null 2>&1; then echo "pm $os_p"; break; fi; done'),
    cmd`if [ -d ${hostPath('/run/systemd/system')} ]; then echo sm systemd; elif command -v rc-service >/dev/null 2>&1; then echo sm openrc; else echo sm sysvinit; fi`,
  ),
  (lines) => {
    const kv = new Map<string, string>();
    for (const l of lines) {
      const eq = l.indexOf('=');
      if (eq > 0) kv.set(l.slice(0, eq), l.slice(eq + 1).replace(/^"(.*)"$/, '$1'));
    }
    const word = (key: string) => lines.find((l) => l.startsWith(`${key} `))?.slice(key.length + 1);
    const pm = word('pm');
    const sm = word('sm');
    return {
      id: kv.get('ID') ?? '',
      like: kv.get('ID_LIKE') ?? '',
      version: kv.get('VERSION_ID') ?? '',
      codename: kv.get('VERSION_CODENAME') ?? '',
      ...(pm === 'apt-get' || pm === 'dnf' || pm === 'yum' ? { packageManager: pm } : {}),
      serviceManager: sm === 'systemd' || sm === 'openrc' ? sm : 'sysvinit',
    };
  },
);

export const MANAGED_PROGRAMS = ['keepalived', 'nginx', 'curl'] as const;
export type ManagedProgram = (typeof MANAGED_PROGRAMS)[number];

export interface Program {
  path: string;
  /** As the program reports it: "2.2.7", "1.22.1"; absent when it would not say. */
  version?: string;
  /**
   * The binary's identity, `stat -L` device:inode:size:ctime: a program whose identity is the
   * one this machine saw with a version is not asked again (known-programs.ts). Any install,
   * upgrade or rebuild changes it (a new inode, or a new ctime, which no one can set back).
   */
  id?: string;
}

export type Programs = Partial<Record<ManagedProgram, Program>>;

/** Programs whose version hactl asks for (`--version`, `-v`): the ones rendering depends on. */
export type VersionedProgram = 'keepalived' | 'nginx';

/** What this machine saw of a host's programs before: a version per identity. */
export type KnownPrograms = Partial<Record<VersionedProgram, { id: string; version: string }>>;

/**
 * `pg_w name`: prints the program's path on PATH (the first executable regular file there, the
 * one running it would start) or `-`, and leaves it in `$pg_p` (empty when absent). Builtins
 * only: a `$(command -v …)` per program forked a subshell each, five per read.
 */
const WHICH = raw(
  'pg_w() { pg_p=; pg_r=$PATH:; while [ -n "$pg_r" ]; do pg_d=${pg_r%%:*}; pg_r=${pg_r#*:}; ' +
    'if [ -n "$pg_d" ] && [ -f "$pg_d/$1" ] && [ -x "$pg_d/$1" ]; then pg_p=$pg_d/$1; break; fi; done; ' +
    'echo "path $1 ${pg_p:--}"; }',
);

/**
 * One `stat -L` for both binaries' identities (device:inode:size:ctime, then the name as given),
 * into `$pg_s`; an empty path (not found) is skipped, as is a file gone since.
 */
const IDENTITIES = raw('pg_s=$(stat -L -c \'%d:%i:%s:%Z %n\' -- "$pg_k" "$pg_x" 2>/dev/null)');

/**
 * `pg_v name path known-id command…`: prints the binary's identity (its line of `$pg_s`), then
 * its version line, by running the command, unless the identity is the known one (then the
 * parser takes the known version). The command runs the very file found and stat'ed (its path),
 * so the identity and the version are of one binary. Running `keepalived --version` and
 * `nginx -v` was most of the facts' cost on the host (each a big dynamically linked program); a
 * stat is one small one.
 */
const VERSION_OF = raw(
  [
    'pg_v() { pg_i=; while read -r pg_a pg_b; do [ "$pg_b" != "$2" ] || pg_i=$pg_a; done <<PG_EOF',
    '$pg_s',
    'PG_EOF',
    'echo "id $1 $pg_i"; if [ -z "$pg_i" ] || [ "$pg_i" != "$3" ]; then pg_n=$1; shift 3; echo "version $pg_n $("$@" 2>&1 | head -n 1)"; fi; }',
  ].join('\n'),
);

const knownId = (known: KnownPrograms, p: VersionedProgram) => known[p]?.id ?? '';

/**
 * The programs hactl manages, found on root's PATH (a package or a local build alike: hactl
 * never replaces a working install), with their versions for version-aware rendering. One
 * process when the versions are known (the stat), where it was seven.
 */
function packagedPrograms(known: KnownPrograms): Shell {
  return script(
    WHICH,
    VERSION_OF,
    raw('pg_w keepalived; pg_k=$pg_p; pg_w nginx; pg_x=$pg_p; pg_w curl'),
    IDENTITIES,
    cmd`if [ -n "$pg_k" ]; then pg_v keepalived "$pg_k" ${knownId(known, 'keepalived')} "$pg_k" --version; fi`,
    cmd`if [ -n "$pg_x" ]; then pg_v nginx "$pg_x" ${knownId(known, 'nginx')} "$pg_x" -v; fi`,
  );
}

/** nginx built under its own prefix: found at its binary, not on PATH. */
function prefixPrograms(nginx: readonly (string | HostPath)[], known: KnownPrograms): Shell {
  const binary = nginx[0] as HostPath;
  return script(
    WHICH,
    VERSION_OF,
    raw('pg_w keepalived; pg_k=$pg_p; pg_w curl'),
    cmd`pg_x=; if [ -x ${binary} ]; then echo ${`path nginx ${binary.path}`}; pg_x=${binary}; else echo 'path nginx -'; fi`,
    IDENTITIES,
    cmd`if [ -n "$pg_x" ]; then pg_v nginx "$pg_x" ${knownId(known, 'nginx')} ${nginx} -v; fi`,
    cmd`if [ -n "$pg_k" ]; then pg_v keepalived "$pg_k" ${knownId(known, 'keepalived')} "$pg_k" --version; fi`,
  );
}

function parsePrograms(lines: string[], known: KnownPrograms): Programs {
  const out: Programs = {};
  const asked = new Set<ManagedProgram>();
  for (const l of lines) {
    const [kind, name, ...rest] = l.split(' ');
    if (!(MANAGED_PROGRAMS as readonly string[]).includes(name)) continue;
    const prog = name as ManagedProgram;
    if (kind === 'path' && rest[0] && rest[0] !== '-') out[prog] = { path: rest[0] };
    if (kind === 'id' && out[prog] && rest[0]) out[prog] = { ...out[prog], id: rest[0] };
    if (kind === 'version' && out[prog]) {
      asked.add(prog);
      // "Keepalived v2.2.7 (01/16,2022)", "nginx version: nginx/1.22.1"
      const v = rest.join(' ').match(/(?:Keepalived v|nginx\/)(\d+(?:\.\d+)+)/)?.[1];
      if (v) out[prog] = { ...out[prog], version: v };
    }
  }
  // Not asked: the host found the identity it was sent, so the version is the one seen with it.
  for (const prog of ['keepalived', 'nginx'] as const) {
    const p = out[prog];
    const k = known[prog];
    if (p && !asked.has(prog) && p.id && k && p.id === k.id) out[prog] = { ...p, version: k.version };
  }
  return out;
}

/**
 * The programs hactl manages, found on root's PATH (a package or a local build alike: hactl
 * never replaces a working install), with their versions for version-aware rendering.
 * `nginx`: the argv that runs this host's nginx (a prefix build is run by its path).
 */
export function programsSection(
  nginx: readonly (string | HostPath)[] = ['nginx'],
  known: KnownPrograms = {},
): Section<Programs> {
  const packaged = typeof nginx[0] === 'string';
  return section('programs', packaged ? packagedPrograms(known) : prefixPrograms(nginx, known), (lines) =>
    parsePrograms(lines, known),
  );
}

/** Runtime values of the given sysctl keys (net.ipv4.ip_nonlocal_bind → its /proc/sys file). */
export function sysctlSection(keys: readonly string[]): Section<Record<string, string>> {
  const files = keys.map((k) => hostPath(`/proc/sys/${k.replace(/\./g, '/')}`));
  return section(
    'sysctl',
    cmd`for sc_f in ${files}; do if [ -r "$sc_f" ]; then read -r sc_v < "$sc_f"; echo "\${sc_f#"$R"/proc/sys/} $sc_v"; fi; done`,
    (lines) =>
      Object.fromEntries(
        lines
          .filter((l) => l.includes(' '))
          .map((l) => [l.slice(0, l.indexOf(' ')).replace(/\//g, '.'), l.slice(l.indexOf(' ') + 1).trim()]),
      ),
  );
}

export interface HostAddress {
  iface: string;
  family: 4 | 6;
  /** address/prefix */
  cidr: string;
  label?: string;
}

export interface NetFacts {
  links: string[];
  addresses: HostAddress[];
}

/**
 * Links and addresses from one `ip` process (its batch mode): link lines look like
 * "2: eth0@if7: <BROADCAST,…", address lines like "2: eth0    inet 10.0.0.11/24 … eth0:1".
 */
export const netSection: Section<NetFacts> = section(
  'net',
  raw("printf 'link show\\naddr show\\n' | ip -o -batch -"),
  (lines) => {
    const links: string[] = [];
    const addresses: HostAddress[] = [];
    for (const line of lines) {
      const link = /^\d+:\s+([^:@\s]+)(?:@\S+)?:\s+</.exec(line);
      if (link) {
        links.push(link[1]);
        continue;
      }
      const m = /^\d+:\s+(\S+)\s+(inet6?)\s+(\S+)(.*)$/.exec(line);
      if (!m) continue;
      const label = m[4].match(/ scope \S+ (?:secondary )?(?:dynamic )?(?:noprefixroute )?(\S+:\S+)/)?.[1];
      addresses.push({ iface: m[1], family: m[2] === 'inet' ? 4 : 6, cidr: m[3], ...(label ? { label } : {}) });
    }
    return { links, addresses };
  },
);

export function holdsAddress(net: NetFacts, ip: string): boolean {
  return net.addresses.some((a) => a.cidr.split('/')[0] === ip);
}

export interface ProcessFacts {
  keepalived: boolean;
  nginx: boolean;
}

/** Whether keepalived and nginx run, from /proc/<pid>/comm read with `read` (no pidof). */
export const procsSection: Section<ProcessFacts> = section(
  'procs',
  cmd`pr_k=0; pr_n=0; for pr_c in ${hostPath('/proc')}/[0-9]*/comm; do read -r pr_x < "$pr_c" 2>/dev/null || continue; case "$pr_x" in keepalived) pr_k=1;; nginx) pr_n=1;; esac; done; echo "keepalived $pr_k"; echo "nginx $pr_n"`,
  (lines) => ({ keepalived: lines.includes('keepalived 1'), nginx: lines.includes('nginx 1') }),
);

export interface NotifiedState {
  state: string;
  priority: number;
  /** Unix seconds of the transition. */
  since: number;
}

/** The VRRP state hactl's notify script last wrote per instance. */
export const notifySection: Section<Record<string, NotifiedState>> = section(
  'vrrp-notify',
  cmd`for vn_f in ${hostPath(HOST_PATHS.vrrpStateDir)}/*; do if [ -f "$vn_f" ]; then read -r vn_l < "$vn_f"; echo "\${vn_f##*/} $vn_l"; fi; done`,
  (lines) => {
    const out: Record<string, NotifiedState> = {};
    for (const line of lines) {
      const [name, state, priority, since] = line.split(' ');
      if (name && state) out[name] = { state, priority: Number(priority), since: Number(since) };
    }
    return out;
  },
);

/** The body of hactl's nginx status endpoint on loopback ("ok <lb> …"), when it answers. */
export function nginxStatusSection(port: number): Section<string | undefined> {
  return section(
    'nginx-status',
    cmd`if command -v curl >/dev/null 2>&1; then curl -fsS -m 1 ${`http://127.0.0.1:${port}/hactl-health`} 2>/dev/null; fi; echo`,
    (lines) => lines.join('\n').trim() || undefined,
  );
}

export interface NginxTest {
  ok: boolean;
  output: string;
}

/** `nginx -t` with its output (exit 127 when nginx is not installed); `nginx`: how this host runs it. */
export function nginxTestSection(nginx: readonly (string | HostPath)[] = ['nginx']): Section<NginxTest> {
  const bin = nginx[0];
  const body =
    typeof bin === 'string'
      ? raw(
          'if command -v nginx >/dev/null 2>&1; then nginx -t 2>&1; echo "exit=$?"; else echo "nginx: not installed"; echo exit=127; fi',
        )
      : cmd`if [ -x ${bin} ]; then ${nginx} -t 2>&1; echo "exit=$?"; else echo ${`${bin.path}: not found`}; echo exit=127; fi`;
  return section('nginx-test', body, (lines) => ({
    ok: lines.includes('exit=0'),
    output: lines
      .filter((l) => !l.startsWith('exit='))
      .join('\n')
      .trim(),
  }));
}

/** The id of the release this host is on ("current <id>"), when hactl recorded one. */
export const releaseCurrentSection: Section<string | undefined> = section(
  'release-current',
  cmd`rc_c=; if [ -r ${hostPath(HOST_PATHS.releaseCurrent)} ]; then read -r rc_c < ${hostPath(HOST_PATHS.releaseCurrent)}; fi; [ -z "$rc_c" ] || echo "current $rc_c"`,
  (lines) => {
    const id = lines
      .find((l) => l.startsWith('current '))
      ?.slice(8)
      .trim();
    return id && /^[0-9A-Za-z-]+$/.test(id) ? id : undefined;
  },
);
