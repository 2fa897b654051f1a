/**
 * What `hactl lab` needs from the machine, a message that names what is missing with the one
 * command that installs it, and (--install-deps) that command run with apt on Debian/Ubuntu.
 */
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { execa } from 'execa';

interface Tool {
  cmd: string;
  pkg: string;
  why: string;
}

/** What the machine runs; the hosts' sshd, keepalived and nginx come from their images. */
export const TOOLS: readonly Tool[] = [
  { cmd: 'ip', pkg: 'iproute2', why: 'network namespaces, veth, bridge' },
  { cmd: 'unshare', pkg: 'util-linux', why: 'mount/pid/uts namespaces' },
  { cmd: 'nsenter', pkg: 'util-linux', why: 'entering a host' },
  { cmd: 'flock', pkg: 'util-linux', why: 'the image cache lock' },
  { cmd: 'mount', pkg: 'mount', why: 'overlay, proc, sysfs, tmpfs, the repository bind mount' },
  { cmd: 'chroot', pkg: 'coreutils', why: 'the host root' },
  { cmd: 'debootstrap', pkg: 'debootstrap', why: "building each release's root file system" },
  { cmd: 'dpkg-scanpackages', pkg: 'dpkg-dev', why: 'indexing the lab package repository' },
  { cmd: 'apt-ftparchive', pkg: 'apt-utils', why: "the lab repository's Release file" },
  { cmd: 'ssh-keygen', pkg: 'openssh-client', why: 'the lab key pair' },
  { cmd: 'ssh', pkg: 'openssh-client', why: 'reaching hosts as an operator would' },
  { cmd: 'curl', pkg: 'curl', why: 'probing sites from the machine' },
  { cmd: 'iptables', pkg: 'iptables', why: 'dropping VRRP in failure tests' },
];

export interface PrereqReport {
  ok: boolean;
  /** Problems apt cannot fix (not Linux, not root, no overlayfs). */
  blockers: string[];
  missing: Tool[];
  installCommand?: string;
}

const SEARCH_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'];

export function findExecutable(cmd: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), ...SEARCH_DIRS];
  for (const dir of dirs) {
    const file = join(dir, cmd);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      /* not in this directory */
    }
  }
  return undefined;
}

function kernelHasOverlay(): boolean {
  try {
    return /\toverlay$/m.test(readFileSync('/proc/filesystems', 'utf8'));
  } catch {
    return false;
  }
}

export async function checkPrereqs(): Promise<PrereqReport> {
  const blockers: string[] = [];
  if (process.platform !== 'linux') {
    blockers.push(`hactl lab needs Linux (network namespaces, overlayfs); this machine runs ${process.platform}`);
    return { ok: false, blockers, missing: [] };
  }
  if (process.getuid?.() !== 0)
    blockers.push('hactl lab needs root (it creates namespaces, links and mounts): run it with sudo');
  if (!kernelHasOverlay()) {
    await execa('modprobe', ['overlay'], { reject: false });
    if (!kernelHasOverlay()) blockers.push('the kernel has no overlayfs (tried `modprobe overlay`)');
  }
  const missing = TOOLS.filter((t) => !findExecutable(t.cmd));
  const pkgs = [...new Set(missing.map((t) => t.pkg))];
  return {
    ok: blockers.length === 0 && missing.length === 0,
    blockers,
    missing,
    ...(pkgs.length > 0 ? { installCommand: `apt-get install -y ${pkgs.join(' ')}` } : {}),
  };
}

export function formatPrereqProblems(report: PrereqReport): string {
  const lines = [...report.blockers];
  if (report.missing.length > 0) {
    lines.push(`missing: ${report.missing.map((t) => `${t.cmd} (${t.pkg}: ${t.why})`).join(', ')}`);
    lines.push(`install them with: ${report.installCommand}   (or run hactl lab up --install-deps)`);
  }
  return lines.join('\n');
}

/** Installs the missing packages with apt-get; throws with apt's last lines when that fails. */
export async function installPrereqs(report: PrereqReport, progress: (m: string) => void = () => {}): Promise<void> {
  const pkgs = [...new Set(report.missing.map((t) => t.pkg))];
  if (pkgs.length === 0) return;
  if (!existsSync('/etc/debian_version') || !findExecutable('apt-get')) {
    throw new Error(`--install-deps needs Debian or Ubuntu (apt-get); install these yourself: ${pkgs.join(' ')}`);
  }
  const env = { DEBIAN_FRONTEND: 'noninteractive' };
  const install = () =>
    execa('apt-get', ['install', '-y', '--no-install-recommends', ...pkgs], { env, reject: false, all: true });
  progress(`installing ${pkgs.join(' ')} with apt-get`);
  let result = await install();
  if (result.exitCode !== 0) {
    progress('apt-get install failed; running apt-get update and trying once more');
    await execa('apt-get', ['update'], { env, reject: false });
    result = await install();
  }
  if (result.exitCode !== 0) {
    const tail = String(result.all ?? '')
      .split('\n')
      .slice(-15)
      .join('\n');
    throw new Error(`apt-get install -y ${pkgs.join(' ')} failed (exit ${result.exitCode}):\n${tail}`);
  }
}
