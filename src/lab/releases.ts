/**
 * Pure: the Debian releases a lab host can run, and which release each host of a lab gets.
 * `mixed` gives the load balancers of every cluster different releases, in the order of a
 * rolling upgrade caught half way (oldest, newest, then the one in between), so a two-node
 * cluster already spans two keepalived and nginx versions.
 */

export const RELEASES = {
  'debian-11': { suite: 'bullseye', versionId: '11' },
  'debian-12': { suite: 'bookworm', versionId: '12' },
  'debian-13': { suite: 'trixie', versionId: '13' },
} as const;

export type ReleaseId = keyof typeof RELEASES;
export type OsChoice = ReleaseId | 'mixed';

export const RELEASE_IDS = Object.keys(RELEASES) as ReleaseId[];
export const OS_CHOICES: readonly OsChoice[] = [...RELEASE_IDS, 'mixed'];
export const DEFAULT_OS: ReleaseId = 'debian-12';

/** The order load balancers of a cluster get releases in with `--os mixed`. */
export const MIXED_ORDER: readonly ReleaseId[] = ['debian-11', 'debian-13', 'debian-12'];

export function isReleaseId(s: string): s is ReleaseId {
  return Object.hasOwn(RELEASES, s);
}

export function isOsChoice(s: string): s is OsChoice {
  return s === 'mixed' || isReleaseId(s);
}

export function suiteOf(release: ReleaseId): string {
  return RELEASES[release].suite;
}

/** The release of the `position`-th (0-based) load balancer of a cluster. */
export function lbRelease(os: OsChoice, position: number): ReleaseId {
  if (os !== 'mixed') return os;
  return MIXED_ORDER[position % MIXED_ORDER.length];
}

/** Backends only need a working nginx: the lab's release, or the default one for a mixed lab. */
export function backendRelease(os: OsChoice): ReleaseId {
  return os === 'mixed' ? DEFAULT_OS : os;
}
