/**
 * Pure: where the lab's images live and what is in each.
 *
 * Cache layout (HACTL_LAB_CACHE_DIR overrides /var/cache/hactl-lab):
 *   lock                               flock: builds exclusive, lab up and clean-cache around them
 *   v1/<release>/base/root             debootstrap minbase + what a cloud image has; no keepalived/nginx
 *   v1/<release>/base/repo             the lab's package repository: keepalived, nginx and every
 *                                      dependency this root lacks, with a trusted=yes index
 *   v1/<release>/preinstalled/root     base + keepalived and nginx
 *   v1/<release>/prefix/root           base + the release's nginx binary under /application/nginx
 *   v1/<release>/prefix-preinstalled/  prefix + keepalived
 *   v1/<release>/<kind>/image.json     written last, inside the build directory, before the
 *                                      directory is renamed into place: its presence is what
 *                                      makes an image complete
 * A build works in v1/<release>/.build-<kind>.XXXXXX; one left by a killed build is removed by
 * the next build (under the lock, so never while its builder lives).
 */
import { join } from 'node:path';
import type { Mirror } from './mirror.js';
import { suiteOf, type ReleaseId } from './releases.js';

/** Bump when what an image holds changes: older caches are then ignored (and clean-cache removes them). */
export const CACHE_VERSION = 'v1';

export type ImageKind = 'base' | 'preinstalled' | 'prefix' | 'prefix-preinstalled';
export type PackagesChoice = 'none' | 'preinstalled';
export type NginxLayout = 'package' | 'prefix';

export interface ImageRef {
  release: ReleaseId;
  kind: ImageKind;
}

/** Where hosts see their release's package repository (a read-only bind mount). */
export const REPO_MOUNT = '/srv/hactl-lab-repo';

/** What a Debian cloud image has beyond minbase, and what the hosts' boot and hactl's deploy use. */
export const INCLUDE_PACKAGES = [
  'openssh-server',
  'iproute2',
  'sudo',
  'curl',
  'procps',
  'ca-certificates',
  'iptables',
  'netbase',
  'psmisc',
  'util-linux',
  'init-system-helpers',
  'sysvinit-utils',
  'iputils-ping',
  // Debian's cloud images have python3 (cloud-init runs on it); hactl init listens for VRRP with it.
  'python3-minimal',
];

/** What the lab repository offers: what hactl deploy installs. */
export const REPO_PACKAGES = ['keepalived', 'nginx'];

export function cacheRoot(): string {
  return process.env.HACTL_LAB_CACHE_DIR ?? '/var/cache/hactl-lab';
}

export function lockFile(): string {
  return join(cacheRoot(), 'lock');
}

export function versionDir(): string {
  return join(cacheRoot(), CACHE_VERSION);
}

export interface ImagePaths {
  dir: string;
  root: string;
  marker: string;
  /** The repository hosts of this release install from (it belongs to the base image). */
  repo: string;
}

export function imagePaths({ release, kind }: ImageRef): ImagePaths {
  const releaseDir = join(versionDir(), release);
  const dir = join(releaseDir, kind);
  return { dir, root: join(dir, 'root'), marker: join(dir, 'image.json'), repo: join(releaseDir, 'base', 'repo') };
}

export function imageName({ release, kind }: ImageRef): string {
  return `${release}/${kind}`;
}

/** The image a host boots: load balancers as asked; backends always need a working packaged nginx. */
export function imageKindFor(role: 'lb' | 'backend', packages: PackagesChoice, nginx: NginxLayout): ImageKind {
  if (role === 'backend') return 'preinstalled';
  if (nginx === 'prefix') return packages === 'preinstalled' ? 'prefix-preinstalled' : 'prefix';
  return packages === 'preinstalled' ? 'preinstalled' : 'base';
}

/** What a derived image installs from the lab repository on top of base. */
export function derivedPackages(kind: Exclude<ImageKind, 'base'>): string[] {
  switch (kind) {
    case 'preinstalled':
    case 'prefix-preinstalled':
      return ['keepalived', 'nginx'];
    case 'prefix':
      return ['nginx'];
  }
}

/** apt sources of the build chroot: the release with its updates and security fixes. */
export function buildSourcesList(release: ReleaseId, mirror: Mirror): string {
  const suite = suiteOf(release);
  return [
    `deb ${mirror.archive} ${suite} main`,
    `deb ${mirror.archive} ${suite}-updates main`,
    ...(mirror.security ? [`deb ${mirror.security} ${suite}-security main`] : []),
    '',
  ].join('\n');
}

/** apt sources of a lab host: only the lab repository, never a registry. */
export function hostSourcesList(): string {
  return [
    '# hactl lab: the only package source of this host, a read-only bind mount of a repository',
    '# built on the lab machine (keepalived, nginx and their dependencies for this release).',
    `deb [trusted=yes] file:${REPO_MOUNT} ./`,
    '',
  ].join('\n');
}

export function debootstrapArgs(release: ReleaseId, target: string, mirror: Mirror): string[] {
  return [
    '--variant=minbase',
    '--components=main',
    `--include=${INCLUDE_PACKAGES.join(',')}`,
    suiteOf(release),
    target,
    mirror.archive,
  ];
}
