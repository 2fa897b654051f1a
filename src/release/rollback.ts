/**
 * hactl rollback: re-applies a release's files through deploy's own path (lock and facts in
 * one round trip, plan with diffs, confirmation, the rolling validated transaction that
 * restores on failure, post-deploy checks). First every host's releases are read, so each host
 * knows which release it goes back to; a host that cannot (its release directory is gone, its
 * files were rendered for keepalived or nginx features it no longer has) fails preflight, and
 * then nothing changes anywhere.
 */
import pLimit from 'p-limit';
import { RemoteStepError, UsageError } from '../errors.js';
import type { Inventory } from '../inventory/model.js';
import { Secret } from '../inventory/secret.js';
import { planHost, type HostPlan } from '../plan/plan.js';
import type { ReleaseRecord } from '../remote/apply.js';
import type { HostFacts } from '../remote/facts.js';
import { HOST_PATHS } from '../remote/paths.js';
import { gather } from '../remote/section.js';
import { releasesSection } from '../remote/sections/releases.js';
import { features, versionsOf, type Versions } from '../render/features.js';
import type { HostRender, RenderedFile } from '../render/render.js';
import { deploy, type DeployOptions, type DeployResult } from '../run/deploy.js';
import type { Target } from '../run/release-record.js';
import type { LbConnector } from '../transport/transport.js';
import type { Manifest } from './manifest.js';
import { clusterReleases, previousRelease, resolve, type ClusterReleases, type HostView } from './view.js';

/** Every load balancer's releases, one exec each (no lock: reading is harmless). */
export async function readReleases(
  inv: Inventory,
  connect: LbConnector,
  concurrency = 32,
): Promise<Map<string, HostView[]>> {
  const limit = pLimit(concurrency);
  const out = new Map<string, HostView[]>();
  await Promise.all(
    inv.clusters.map(async (cluster) => {
      const views = await Promise.all(
        cluster.lbs.map((lb) =>
          limit(async (): Promise<HostView> => {
            try {
              const t = await connect(lb);
              try {
                const [releases] = await gather(t, [releasesSection] as const, { step: 'releases', timeoutMs: 20_000 });
                return { host: lb.name, releases };
              } finally {
                await t.close().catch(() => undefined);
              }
            } catch (e) {
              return { host: lb.name, error: (e as Error).message };
            }
          }),
        ),
      );
      out.set(cluster.name, views);
    }),
  );
  return out;
}

export function releaseViews(inv: Inventory, hosts: Map<string, HostView[]>): ClusterReleases[] {
  return inv.clusters.map((c) => clusterReleases(c, hosts.get(c.name) ?? []));
}

const copyOf = (id: string, path: string) => `${HOST_PATHS.releasesDir}/${id}/files${path}`;

/** Secrets in a release's files and in the host's current ones (VRRP passwords, webhook URLs), so no diff shows them. */
function secretsIn(texts: (string | undefined)[]): Secret[] {
  const found = new Set<string>();
  for (const t of texts) {
    for (const m of (t ?? '').matchAll(/^\s*auth_pass\s+(\S+)/gm)) found.add(m[1]);
    for (const m of (t ?? '').matchAll(/hook_url=(?:'([^']*)'|(\S+))/g)) found.add(m[1] ?? m[2]);
  }
  return [...found].filter((v) => v !== "''" && v !== '').map((v) => new Secret(v));
}

/** What each version gate changes in the files, in words. */
const FEATURE_WORDS: Record<keyof ReturnType<typeof features>, string> = {
  keepalivedReloadCheck: 'reload_check_config, keepalived 2.2 and later',
  keepalivedUpDownDelays: 'interface_up_down_delays, keepalived 2.2.3 and later',
  keepalivedMaxAutoPriority: 'max_auto_priority, keepalived 2.1 and later',
  keepalivedStartupDelay: 'vrrp_startup_delay, keepalived 2.0.14 and later',
  nginxHttp2Directive: '`http2 on`, nginx 1.25.1 and later',
  keepalivedTrackFile: "track_file (hactl drain's tracker), keepalived 2.1 and later",
};

/** The release was rendered for what this host runs now, or hactl says which feature differs. */
function versionProblem(m: Manifest, facts: HostFacts): string | undefined {
  for (const p of ['keepalived', 'nginx'] as const)
    if (!facts.programs[p]) return `${p} is not installed here; a rollback installs nothing: run hactl deploy`;
  const now: Versions = versionsOf(facts.programs);
  const [then, here] = [features(m.versions), features(now)];
  const differ = (Object.keys(then) as (keyof typeof then)[]).filter((k) => then[k] !== here[k]);
  if (differ.length === 0) return undefined;
  const was =
    Object.entries(m.versions)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ') || 'unknown versions';
  const is = Object.entries(now)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  const what = differ.map((k) => FEATURE_WORDS[k]).join('; ');
  return `release ${m.id} was rendered for ${was}, this host runs ${is}, and the files differ between them (${what}): deploy that release's inventory instead`;
}

/** The host's files as the release recorded them; each copy must still be the bytes its manifest names. */
function releaseRender(base: HostRender, m: Manifest, facts: HostFacts): HostRender {
  const problem = versionProblem(m, facts);
  if (problem) throw new Error(problem);
  const files: RenderedFile[] = m.files.map((f) => {
    const copy = facts.files[copyOf(m.id, f.path)];
    if (!copy?.exists || copy.content === undefined)
      throw new Error(`release ${m.id} has no copy of ${f.path} (${copyOf(m.id, f.path)} is gone)`);
    if (copy.sha256 !== f.sha256)
      throw new Error(
        `release ${m.id}: the copy of ${f.path} is not what was recorded (sha256 differs): it was changed`,
      );
    return { ...f, content: copy.content };
  });
  const texts = files.flatMap((f) => [f.content, facts.files[f.path]?.content]);
  return { ...base, files, versions: m.versions, secrets: [...base.secrets, ...secretsIn(texts)] };
}

interface HostTarget {
  id: string;
  manifest?: Manifest;
  problem?: string;
}

function targetOf(hosts: Map<string, HostTarget>, keep: number, who: string): Target {
  const of = (host: string) => hosts.get(host) ?? { id: '', problem: `${host} is not in the rollback` };
  return {
    readAlso: (host) => {
      const m = of(host).manifest;
      return m ? m.files.flatMap((f) => [f.path, copyOf(m.id, f.path)]) : [];
    },
    render: (base, facts) => {
      const t = of(base.lb.name);
      if (!t.manifest) throw new Error(`${t.problem}; nothing was changed`);
      return releaseRender(base, t.manifest, facts);
    },
    plan: (render, facts) => rollbackPlan(render, facts, of(render.lb.name).id),
    record: (host): ReleaseRecord => ({ id: of(host).id, keep, action: 'rollback', who }),
  };
}

/** deploy's plan for the release's files; a host already on those files is changed only to make the release current. */
function rollbackPlan(render: HostRender, facts: HostFacts, id: string): HostPlan {
  const plan = planHost(render, facts);
  if (plan.packages.length > 0)
    throw new RemoteStepError(
      render.lb.name,
      'preflight',
      `needs ${plan.packages.join(', ')}: a rollback installs nothing`,
    );
  if (plan.changed) return { ...plan, summary: `roll back to ${id}: ${plan.summary}` };
  if (facts.release === id) return { ...plan, summary: `already on release ${id}: ${plan.summary}` };
  return { ...plan, changed: true, summary: `files match release ${id}: make it current` };
}

export interface RollbackOptions extends Omit<DeployOptions, 'target' | 'release' | 'census'> {
  /** The release to go back to. Default: the one before each cluster's current release. */
  to?: string;
  who: string;
  keep: number;
}

export interface RollbackResult extends DeployResult {
  /** Per cluster, the release it goes back to. */
  targets: { cluster: string; to: string }[];
}

/** Which release each cluster and each of its hosts goes back to. */
export function rollbackTargets(
  inv: Inventory,
  views: Map<string, HostView[]>,
  to?: string,
): { targets: { cluster: string; to: string }[]; hosts: Map<string, HostTarget> } {
  const targets: { cluster: string; to: string }[] = [];
  const hosts = new Map<string, HostTarget>();
  for (const cluster of inv.clusters) {
    const hv = views.get(cluster.name) ?? [];
    const view = clusterReleases(cluster, hv);
    const id = to ?? previousRelease(view);
    if (!id)
      throw new UsageError(
        view.current
          ? `cluster ${cluster.name} has no release before ${view.current} to roll back to (see hactl releases)`
          : `cluster ${cluster.name} has no releases: deploy it first`,
      );
    if (!view.rows.some((r) => r.id === id))
      throw new UsageError(`cluster ${cluster.name} has no release ${id} (see hactl releases)`);
    targets.push({ cluster: cluster.name, to: id });
    for (const lb of cluster.lbs) {
      const r = resolve(hv, lb.name, id);
      if ('problem' in r) hosts.set(lb.name, { id, problem: r.problem });
      else {
        const manifest = hv.find((h) => h.host === lb.name)?.releases?.releases.find((m) => m.id === r.release);
        hosts.set(lb.name, { id: r.release, ...(manifest ? { manifest } : { problem: `${lb.name}: no manifest` }) });
      }
    }
  }
  return { targets, hosts };
}

export async function rollback(inv: Inventory, opts: RollbackOptions): Promise<RollbackResult> {
  const views = await readReleases(inv, opts.connect, opts.concurrency);
  const { targets, hosts } = rollbackTargets(inv, views, opts.to);
  const { to: _to, who, keep, ...rest } = opts;
  const result = await deploy(inv, { ...rest, target: targetOf(hosts, keep, who), census: { skip: true } });
  return { ...result, targets };
}
