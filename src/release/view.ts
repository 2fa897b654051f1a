/**
 * A cluster's releases as its hosts tell them (pure): one row per release id, which hosts
 * recorded it, which were unchanged in it, which should have it and do not; the cluster's
 * current release; where hosts disagree; and, for rollback, which release each host has to go
 * back to. A host unchanged by a deploy records nothing: its manifest of the release (on the
 * hosts that changed) names the release it stayed on.
 */
import type { Cluster } from '../inventory/model.js';
import type { HostReleases } from '../remote/sections/releases.js';
import { HOST_PATHS } from '../remote/paths.js';
import type { Manifest } from './manifest.js';

export interface HostView {
  host: string;
  /** Why this host could not be read. */
  error?: string;
  releases?: HostReleases;
}

export interface ReleaseRow {
  id: string;
  time: string;
  who: string;
  hactl: string;
  /** Hosts that recorded this release. */
  hosts: string[];
  /** Hosts the deploy left unchanged (they stayed on an earlier release). */
  unchanged: string[];
  /** Hosts the deploy meant to change that have no record of it (failed rollout, or removed). */
  missing: string[];
  current: boolean;
}

export interface ClusterReleases {
  cluster: string;
  hosts: { host: string; current?: string; releases: number; error?: string }[];
  rows: ReleaseRow[];
  current?: string;
  disagreements: string[];
}

const ids = (h: HostView) => new Set(h.releases?.releases.map((m) => m.id) ?? []);

function manifestOf(hosts: HostView[], id: string): Manifest | undefined {
  for (const h of hosts) {
    const m = h.releases?.releases.find((x) => x.id === id);
    if (m) return m;
  }
  return undefined;
}

export type Resolution = { release: string } | { problem: string };

/** The release `host` was on at release `id`: its own record of it, or the one it stayed on. */
export function resolve(hosts: HostView[], host: string, id: string): Resolution {
  const h = hosts.find((x) => x.host === host);
  if (!h?.releases) return { problem: `${host} could not be read${h?.error ? `: ${h.error}` : ''}` };
  if (ids(h).has(id)) return { release: id };
  const dir = `${HOST_PATHS.releasesDir}/${id}`;
  const m = manifestOf(hosts, id);
  if (!m) return { problem: `no host of the cluster has release ${id}` };
  const line = m.plan.find((p) => p.host === host);
  if (!line) return { problem: `${host} was not part of release ${id} (added to the cluster later)` };
  if (line.changed)
    return {
      problem: `${host} has no release ${id}: ${dir} is not there (removed by hand, or its rollout of ${id} failed), so its files cannot be restored`,
    };
  if (!line.release)
    return {
      problem: `${host} was left unchanged by release ${id} and had no release recorded then: run hactl deploy with that inventory instead`,
    };
  if (!ids(h).has(line.release))
    return {
      problem: `${host} stayed on release ${line.release} when ${id} was deployed, and ${HOST_PATHS.releasesDir}/${line.release} is gone from it`,
    };
  return { release: line.release };
}

/** `id` comes from the hosts' own lists, so some host has its manifest. */
function rowOf(cluster: Cluster, hosts: HostView[], id: string, current?: string): ReleaseRow {
  const m = manifestOf(hosts, id) ?? { plan: [], time: '', who: '', hactl: '' };
  const recorded = hosts.filter((h) => ids(h).has(id)).map((h) => h.host);
  const unchanged = m.plan.filter((p) => !p.changed).map((p) => p.host);
  const missing = cluster.lbs
    .map((lb) => lb.name)
    .filter((n) => !recorded.includes(n) && m.plan.some((p) => p.host === n && p.changed));
  return { id, time: m.time, who: m.who, hactl: m.hactl, hosts: recorded, unchanged, missing, current: id === current };
}

/** The cluster is on the newest release any host is on; each other host must be where that release left it. */
function disagreements(hosts: HostView[], current: string | undefined): string[] {
  const out: string[] = [];
  for (const h of hosts) {
    if (!h.releases) {
      out.push(`${h.host} could not be read${h.error ? `: ${h.error}` : ''}`);
      continue;
    }
    for (const b of h.releases.broken) out.push(`${h.host}: ${HOST_PATHS.releasesDir}/${b} has no readable manifest`);
    if (!current) continue;
    if (!h.releases.current) {
      out.push(`${h.host} has no current release (never deployed by this hactl, or its record was removed)`);
      continue;
    }
    const want = resolve(hosts, h.host, current);
    if ('problem' in want) out.push(want.problem);
    else if (want.release !== h.releases.current)
      out.push(`${h.host} is on ${h.releases.current}, not on ${want.release} as release ${current} left it`);
  }
  return out;
}

export function clusterReleases(cluster: Cluster, hosts: HostView[]): ClusterReleases {
  const all = [...new Set(hosts.flatMap((h) => [...ids(h)]))].sort();
  const currents = hosts.flatMap((h) => (h.releases?.current ? [h.releases.current] : [])).sort();
  const current = currents[currents.length - 1];
  return {
    cluster: cluster.name,
    hosts: hosts.map((h) => ({
      host: h.host,
      ...(h.releases?.current ? { current: h.releases.current } : {}),
      releases: h.releases?.releases.length ?? 0,
      ...(h.error ? { error: h.error } : {}),
    })),
    rows: all.reverse().map((id) => rowOf(cluster, hosts, id, current)),
    ...(current ? { current } : {}),
    disagreements: disagreements(hosts, current),
  };
}

/** The release before the cluster's current one (what `hactl rollback` goes back to by default). */
export function previousRelease(view: ClusterReleases): string | undefined {
  const current = view.current;
  if (!current) return undefined;
  return view.rows.map((r) => r.id).find((id) => id < current);
}
