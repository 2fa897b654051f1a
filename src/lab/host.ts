/**
 * One lab host: a process tree in its own netns, mount, pid, uts and ipc namespaces, whose
 * root is an overlay of its release's image (lower) and a per-host directory (upper), with
 * the release's package repository bind-mounted read-only, running the image's sshd as the
 * pid namespace's init. Killing that init (the pid recorded in lab.json) ends every process
 * of the host, and its mounts go with its mount namespace.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { sh } from '../shell/quote.js';
import { GiveUp, waitFor } from '../util/wait-for.js';
import { REPO_MOUNT } from './image-plan.js';
import { isAlive } from './state.js';
import type { HostPlan, HostState } from './types.js';

export const STD_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const HOST_KEY_TYPES = ['ed25519', 'ecdsa', 'rsa'];

/** sshd settings given on the command line, so the machine's sshd_config stays as it is. */
export const SSHD_OPTIONS = [
  'PermitRootLogin=prohibit-password',
  'PasswordAuthentication=no',
  'KbdInteractiveAuthentication=no',
  'UseDNS=no',
  'PrintMotd=no',
  'X11Forwarding=no',
  // MaxSessions and MaxStartups stay at OpenSSH's defaults (10, 10:30:100): hactl must live
  // within what a stock server allows, and the lab is where that is proven.
];

/**
 * Host keys: `all` runs `ssh-keygen -A` (RSA, ECDSA, Ed25519, as on a stock Debian host);
 * `no-rsa` makes Ed25519 and ECDSA only, about 0.3-0.6 s of CPU less per host, for big labs.
 */
export type HostKeySet = 'all' | 'no-rsa';

function hostKeyCommands(keys: HostKeySet): string[] {
  if (keys === 'all') return ['ssh-keygen -A'];
  return ['ed25519', 'ecdsa'].map((t) =>
    sh(['ssh-keygen', '-q', '-t', t, '-N', '', '-f', `/etc/ssh/ssh_host_${t}_key`]),
  );
}

function sshdOptions(keys: HostKeySet): string[] {
  if (keys === 'all') return SSHD_OPTIONS;
  return [...SSHD_OPTIONS, 'HostKey=/etc/ssh/ssh_host_ed25519_key', 'HostKey=/etc/ssh/ssh_host_ecdsa_key'];
}

export interface BootOptions {
  prefix: number;
  /** The image root: the overlay's lower layer. */
  lowerDir: string;
  /** The release's package repository, bind-mounted read-only at REPO_MOUNT. */
  repoDir: string;
  hostKeys: HostKeySet;
  /** How long sshd may take to answer. */
  timeoutMs: number;
}

export interface HostDirs {
  dir: string;
  upper: string;
  work: string;
  root: string;
  bootScript: string;
  bootLog: string;
  /** Written by the boot script: the host init's pid in the machine's pid namespace. */
  initPid: string;
}

export function hostDirs(stateDir: string, name: string): HostDirs {
  const dir = join(stateDir, 'hosts', name);
  return {
    dir,
    upper: join(dir, 'upper'),
    work: join(dir, 'work'),
    root: join(dir, 'root'),
    bootScript: join(dir, 'boot.sh'),
    bootLog: join(dir, 'boot.log'),
    initPid: join(dir, 'init.pid'),
  };
}

/**
 * IPv6 on eth0, kept quiet: no router solicitations or autoconfiguration (there is no router),
 * no duplicate address detection (the lab plans its addresses, and DAD would delay them ~1 s).
 * The link-local address stays: VRRPv3 over IPv6 sends its adverts from it.
 */
function ipv6Commands(host: HostPlan, dev = 'eth0'): string[] {
  if (!host.ip6) return [`echo 1 > /proc/sys/net/ipv6/conf/${dev}/disable_ipv6`];
  return [
    ...['accept_ra=0', 'autoconf=0', 'router_solicitations=0', 'accept_dad=0', 'dad_transmits=0'].map((kv) => {
      const [k, v] = kv.split('=');
      return `echo ${v} > /proc/sys/net/ipv6/conf/${dev}/${k}`;
    }),
    // eth1 (--private-net) keeps only its link-local address: the source of VRRPv3 adverts there.
    ...(dev === 'eth0' ? [`ip -6 addr add ${host.ip6}/64 dev eth0 nodad`] : []),
  ];
}

/** With --private-net: eth1 on the cluster's private segment, addressed like eth0, quiet the same way. */
function privateLinkCommands(host: HostPlan): string[] {
  if (!host.private) return [];
  return [
    `ip addr add ${host.private.ip}/${host.private.prefix} dev eth1`,
    ...ipv6Commands(host, 'eth1'),
    'ip link set eth1 up',
  ];
}

/** The script run as the host's pid 1: mounts, names and addresses the host, then becomes sshd. */
export function bootScript(host: HostPlan, dirs: HostDirs, opts: BootOptions): string {
  for (const path of [dirs.dir, opts.lowerDir, opts.repoDir])
    if (!/^[A-Za-z0-9_./-]+$/.test(path))
      throw new Error(`lab path ${path} must be plain (letters, digits, _ . / -) for mount options`);
  const inside = [
    'set -eu',
    'mkdir -p /run/sshd /run/lock && chmod 0755 /run/sshd',
    // Images carry no host keys; each host makes its own.
    ...hostKeyCommands(opts.hostKeys),
    ...(host.role === 'backend' ? ['service nginx start'] : []),
    `exec ${sh(['/usr/sbin/sshd', '-D', '-e', ...sshdOptions(opts.hostKeys).flatMap((o) => ['-o', o])])}`,
  ].join('\n');
  const r = dirs.root;
  return [
    '#!/bin/sh',
    `# hactl lab host ${host.name}: pid 1 of its namespaces, inside netns ${host.netns}.`,
    'set -eu',
    // `read` is a shell builtin, so /proc/self is this shell: its pid as the machine sees it
    // (the machine's /proc is still mounted here), which stays the pid of sshd after the execs.
    `read -r pid _ < /proc/self/stat && echo "$pid" > ${dirs.initPid}`,
    'mount --make-rprivate /',
    `mount -t overlay hactl-lab -o lowerdir=${opts.lowerDir},upperdir=${dirs.upper},workdir=${dirs.work} ${r}`,
    `mount --bind ${opts.repoDir} ${r}${REPO_MOUNT}`,
    `mount -o remount,bind,ro ${r}${REPO_MOUNT}`,
    `mount -t proc proc ${r}/proc`,
    // Mounted from inside the netns, so /sys/class/net lists this host's devices.
    `mount -t sysfs sysfs ${r}/sys`,
    `mount -t tmpfs -o mode=0755,size=64m tmpfs ${r}/run`,
    `mount -t tmpfs -o mode=1777,size=256m tmpfs ${r}/tmp`,
    `mount --rbind /dev ${r}/dev`,
    `hostname ${host.name}`,
    'ip link set lo up',
    `ip addr add ${host.ip}/${opts.prefix} dev eth0`,
    ...ipv6Commands(host),
    'ip link set eth0 up',
    ...privateLinkCommands(host),
    `exec chroot ${r} /bin/sh -c ${sh([inside])}`,
    '',
  ].join('\n');
}

export async function prepareHostDirs(dirs: HostDirs): Promise<void> {
  await Promise.all([dirs.upper, dirs.work, dirs.root].map((d) => mkdir(d, { recursive: true, mode: 0o755 })));
}

/** True once something on ip:22 sends an SSH banner. */
export function sshBanner(ip: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: ip, port: 22 });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('data', (d) => done(d.toString('latin1').startsWith('SSH-')));
    socket.once('error', () => done(false));
  });
}

async function logTail(file: string): Promise<string> {
  return readFile(file, 'utf8').then(
    (t) => t.trim().split('\n').slice(-12).join('\n'),
    () => '(no boot log)',
  );
}

export async function bootHost(host: HostPlan, dirs: HostDirs, opts: BootOptions): Promise<HostState> {
  await writeFile(dirs.bootScript, bootScript(host, dirs, opts), { mode: 0o700 });
  const log = openSync(dirs.bootLog, 'a');
  const child = spawn(
    'nsenter',
    [
      `--net=/run/netns/${host.netns}`,
      'unshare',
      '--mount',
      '--uts',
      '--ipc',
      '--pid',
      '--kill-child',
      '--propagation',
      'private',
      '/bin/sh',
      dirs.bootScript,
    ],
    { detached: true, stdio: ['ignore', log, log], env: { PATH: STD_PATH, LANG: 'C.UTF-8', HOME: '/root' } },
  );
  closeSync(log);
  child.unref();
  child.on('error', () => undefined);
  const launcherPid = child.pid;
  if (launcherPid === undefined) throw new Error(`${host.name}: could not start nsenter`);
  const failed = async (what: string) =>
    new GiveUp(`${host.name} (${host.ip}) ${what}; boot log ${dirs.bootLog}:\n${await logTail(dirs.bootLog)}`);
  const pid = await waitFor(
    async () => {
      if (!isAlive(launcherPid)) throw await failed('exited during start-up');
      const text = await readFile(dirs.initPid, 'utf8').catch(() => '');
      return /^\d+\n$/.test(text) ? Number(text) : undefined;
    },
    { timeoutMs: 10_000, intervalMs: 20, what: `the init process of ${host.name}` },
  );
  await waitFor(
    async () => {
      if (!isAlive(pid)) throw await failed('died during start-up');
      return sshBanner(host.ip);
    },
    { timeoutMs: opts.timeoutMs, intervalMs: 50, what: `sshd of ${host.name} on ${host.ip}:22` },
  );
  const keys = await Promise.all(
    HOST_KEY_TYPES.map((t) =>
      readFile(join(dirs.upper, `etc/ssh/ssh_host_${t}_key.pub`), 'utf8').then(
        (k) => k.trim().split(/\s+/).slice(0, 2).join(' '),
        () => '',
      ),
    ),
  );
  const hostKeys = keys.filter(Boolean);
  if (hostKeys.length === 0)
    throw new Error(`${host.name}: sshd runs but no host key was found under ${dirs.upper}/etc/ssh`);
  return { ...host, pid, launcherPid, hostKeys };
}
