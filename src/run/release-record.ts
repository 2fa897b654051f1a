/**
 * What deploy records on a host it changes (a new release: the manifest and the paths whose
 * copies go with it), and the seam through which rollback replaces "render the inventory" with
 * "apply a release": a Target says what each host should end up with and what to record.
 */
import type { Cluster } from '../inventory/model.js';
import type { HostPlan } from '../plan/plan.js';
import { formatManifest } from '../release/manifest.js';
import type { ReleaseRecord } from '../remote/apply.js';
import type { HostFacts } from '../remote/facts.js';
import type { HostRender } from '../render/render.js';

/** Who and what a deploy records: the same id on every host it changes. */
export interface ReleaseInfo {
  id: string;
  /** ISO 8601 UTC. */
  time: string;
  who: string;
  hactl: string;
  inventorySha: string;
  keep: number;
}

/** What a host should end up with, when it is not the inventory's render (rollback: a release). */
export interface Target {
  /** Files to read with the facts besides the rendered ones (the release's copies and paths). */
  readAlso(host: string): string[];
  /** The host's files; throws (failing that host's preflight, so nothing changes anywhere) when they cannot be had. */
  render(base: HostRender, facts: HostFacts): HostRender;
  plan(render: HostRender, facts: HostFacts): HostPlan;
  record(host: string): ReleaseRecord | undefined;
}

/** A release is recorded where the files change: a host whose files already match stays on its release. */
export const changesFiles = (plan: HostPlan) => plan.files.some((f) => f.action !== 'unchanged');

interface Planned {
  plan: HostPlan;
  facts: HostFacts;
  render: HostRender;
}

/** The new release of a host this deploy changes; undefined when its files do not change. */
export function newRelease(
  info: ReleaseInfo,
  cluster: Cluster,
  h: Planned,
  others: (lb: string) => Planned | undefined,
): ReleaseRecord | undefined {
  if (!changesFiles(h.plan)) return undefined;
  const manifest = formatManifest({
    id: info.id,
    time: info.time,
    who: info.who,
    hactl: info.hactl,
    inventory: info.inventorySha,
    cluster: cluster.name,
    host: h.render.lb.name,
    versions: h.render.versions,
    ...(h.facts.release ? { previous: h.facts.release } : {}),
    plan: cluster.lbs.map((lb) => {
      const o = lb.name === h.render.lb.name ? h : others(lb.name);
      const changed = o ? changesFiles(o.plan) : false;
      return { host: lb.name, changed, ...(!changed && o?.facts.release ? { release: o.facts.release } : {}) };
    }),
    files: h.render.files.map((f) => ({
      path: f.path,
      mode: f.mode,
      owner: f.owner,
      group: f.group,
      service: f.service,
      sha256: f.sha256,
    })),
  });
  return {
    id: info.id,
    manifest,
    files: h.render.files.map((f) => f.path),
    keep: info.keep,
    action: 'deploy',
    who: info.who,
  };
}
