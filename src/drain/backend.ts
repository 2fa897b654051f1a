/**
 * hactl drain / undrain --backend: the backend's `server` lines in the deployed nginx site file
 * get (or lose) `down`, with the drained-backends record beside them, in deploy's transaction
 * (staged, swapped, nginx -t, restored byte for byte on failure, nginx reloaded only), one load
 * balancer at a time under the deploy lock. Then the established connections from every load
 * balancer to the backend are counted until none is left (or the timeout): nginx's old workers
 * finish their requests after a reload, and then it is safe to stop the backend.
 */
import { HactlError, RefusedError, UsageError } from '../errors.js';
import type { Backend, Cluster, Inventory, LoadBalancer } from '../inventory/model.js';
import { type ApplyRequest, type FileWrite } from '../remote/apply.js';
import { factsSections, hostFacts, rememberPrograms, withKnown, type HostFacts } from '../remote/facts.js';
import { lockAndGather } from '../remote/lock.js';
import { HOST_PATHS } from '../remote/paths.js';
import { gather } from '../remote/section.js';
import { connectionsSection, nginxWorkersSection, type DrainedBackend } from '../remote/sections/drain.js';
import { nginxStatusSection } from '../remote/sections/host.js';
import { runTransaction } from '../run/host-ops.js';
import { rollingOrder } from '../run/order.js';
import { nginxArgv, nginxSiteFile } from '../shell/nginx.js';
import type { LbConnector, Transport } from '../transport/transport.js';
import { sleep } from '../util/sleep.js';
import { waitFor } from '../util/wait-for.js';

export interface BackendDrainOptions {
  connect: LbConnector;
  holder?: string;
  /** Seconds to wait for the backend's connections to end (drain). Default: 60. */
  timeoutS?: number;
  signal?: AbortSignal;
  onProgress?: (line: string) => void;
}

export interface HostStep {
  host: string;
  changed: boolean;
  /** Established connections to the backend when the wait ended (-1: ss missing). */
  connections?: number;
  /** nginx workers from before this host's reload still running when the wait ended. */
  oldWorkers?: number;
  error?: string;
}

export interface BackendDrainResult {
  ok: boolean;
  action: 'drain' | 'undrain';
  backend: string;
  target: string;
  clusters: string[];
  hosts: HostStep[];
  /** drain: no load balancer has a connection to it any more. */
  safeToStop: boolean;
  /** Milliseconds from the last reload until the connections were gone. */
  connectionsGoneMs?: number;
  message: string;
  durationMs: number;
}

const targetOf = (b: Backend) => `${b.address.includes(':') ? `[${b.address}]` : b.address}:${b.port}`;

/**
 * The site file with `down` on (or off) every upstream server line of this backend. Both
 * quantifiers are lazy so that a trailing ` down` is never taken for one of the parameters.
 */
export function markDown(text: string, b: Backend, down: boolean): { text: string; found: boolean } {
  const t = targetOf(b).replace(/[.[\]]/g, '\\$&');
  const line = new RegExp(`^(\\s*server ${t}(?:\\s[^;{]*?)??)( down)?;$`, 'gm');
  let found = false;
  const out = text.replace(line, (_all, head: string) => {
    found = true;
    return `${head}${down ? ' down' : ''};`;
  });
  return { text: out, found };
}

export function recordText(list: readonly DrainedBackend[]): string {
  return list.map((b) => `${b.name} ${b.target}\n`).join('');
}

interface Held {
  cluster: Cluster;
  lb: LoadBalancer;
  t: Transport;
  facts: HostFacts;
  /** nginx's workers before any change: those still running after the reload serve the old configuration. */
  workersBefore: number[];
  /** This run reloaded nginx here: its old workers are waited for. */
  reloaded: boolean;
  release(): Promise<void>;
}

function findBackend(inv: Inventory, name: string): { clusters: Cluster[]; backend: Backend } {
  const clusters = inv.clusters.filter((c) => c.backends.some((b) => b.name === name));
  if (clusters.length === 0) {
    const all = inv.clusters.flatMap((c) => c.backends.map((b) => b.name));
    throw new UsageError(`${inv.file}: no backend named ${name}; the inventory has ${all.join(', ')}`);
  }
  return { clusters, backend: clusters[0].backends.find((b) => b.name === name)! };
}

/** A site whose every other server is drained (or a backup) would answer 502 with this one down too. */
function lastServerProblem(cluster: Cluster, name: string, drained: ReadonlySet<string>): string | undefined {
  for (const site of cluster.sites) {
    if (!site.backends.some((b) => b.name === name)) continue;
    const left = site.backends.filter((b) => b.name !== name && !drained.has(b.name));
    if (left.length === 0)
      return `${name} is the last backend of site ${site.name} in service (the others are drained): undrain one of them first; nothing was changed`;
  }
  return undefined;
}

async function lockAll(clusters: Cluster[], opts: BackendDrainOptions): Promise<Held[]> {
  const held: Held[] = [];
  try {
    for (const cluster of clusters)
      for (const lb of cluster.lbs) {
        const t = await opts.connect(lb);
        const site = nginxSiteFile(lb.nginx, cluster.name);
        const req = {
          files: [site, HOST_PATHS.drainedBackends],
          sysctl: [],
          statusPort: cluster.nginxStatusPort,
          nginxConfDir: lb.nginx.includeDir,
          nginx: nginxArgv(lb.nginx),
        };
        // The workers before any change come with the lock's facts, in the same round trip.
        const sections = [nginxWorkersSection(lb.nginx), ...factsSections(withKnown(t, req))] as const;
        const lock = await lockAndGather(t, opts.holder ?? 'hactl drain', sections).catch(async (e) => {
          await t.close().catch(() => undefined);
          throw e;
        });
        const [workers, ...results] = lock.results;
        const facts = hostFacts(results);
        rememberPrograms(t, facts);
        held.push({
          cluster,
          lb,
          t,
          facts,
          workersBefore: workers.workers,
          reloaded: false,
          release: lock.release,
        });
      }
    return held;
  } catch (e) {
    await releaseAll(held);
    throw e;
  }
}

async function releaseAll(held: readonly Held[]): Promise<void> {
  await Promise.all(
    held.map(async (h) => {
      await h.release().catch(() => undefined);
      await h.t.close().catch(() => undefined);
    }),
  );
}

/** The transaction for one host: the site file and the record, nginx reloaded, or undefined when nothing changes. */
function hostRequest(h: Held, b: Backend, down: boolean): ApplyRequest | undefined {
  const path = nginxSiteFile(h.lb.nginx, h.cluster.name);
  const site = h.facts.files[path];
  if (!site?.content)
    throw new HactlError(`${h.lb.name}: ${path} is not there: run hactl deploy first; nothing was changed`);
  const marked = markDown(site.content, b, down);
  if (!marked.found)
    throw new HactlError(
      `${h.lb.name}: ${path} has no server line for ${b.name} (${targetOf(b)}): run hactl deploy first (the inventory may have changed since); nothing was changed`,
    );
  const list = (h.facts.drain?.backends ?? []).filter((x) => x.name !== b.name);
  if (down) list.push({ name: b.name, target: targetOf(b) });
  const record = recordText(list);
  const changes: FileWrite[] = [];
  if (marked.text !== site.content)
    changes.push({
      action: 'update',
      path,
      content: marked.text,
      mode: site.mode ?? '0644',
      owner: 'root',
      group: 'root',
    });
  if ((h.facts.files[HOST_PATHS.drainedBackends]?.content ?? '') !== record)
    changes.push({
      action: 'update',
      path: HOST_PATHS.drainedBackends,
      content: record,
      mode: '0644',
      owner: 'root',
      group: 'root',
    });
  if (changes.length === 0) return undefined;
  return {
    host: h.lb.name,
    changes,
    packages: [],
    sysctl: {},
    reloadSysctl: false,
    reload: marked.text !== site.content ? ['nginx'] : [],
    start: [],
    serviceManager: h.facts.os.serviceManager,
    validate: { keepalivedConf: HOST_PATHS.keepalivedConf },
    nginx: h.lb.nginx,
  };
}

async function nginxServes(h: Held): Promise<void> {
  await waitFor(
    async () => {
      const [s] = await gather(h.t, [nginxStatusSection(h.cluster.nginxStatusPort)] as const, {
        step: 'nginx status',
        timeoutMs: 10_000,
      });
      return s?.startsWith(`ok ${h.lb.name}`) ?? false;
    },
    { timeoutMs: 10_000, intervalMs: 150, what: `${h.lb.name}'s nginx to answer after its reload` },
  );
}

interface Left {
  /** Established connections to the backend (-1: ss missing). */
  conns: number;
  /** nginx workers from before the reload still running (on a host this run reloaded). */
  old: number;
}

async function connections(held: readonly Held[], b: Backend): Promise<Map<string, Left>> {
  const sec = connectionsSection([{ name: b.name, address: b.address, port: b.port }]);
  const out = new Map<string, Left>();
  await Promise.all(
    held.map(async (h) => {
      const [m, w] = await gather(h.t, [sec, nginxWorkersSection(h.lb.nginx)] as const, {
        step: 'backend connections',
        timeoutMs: 10_000,
      });
      const now = new Set(w.workers);
      const old = h.reloaded ? h.workersBefore.filter((p) => now.has(p)).length : 0;
      out.set(h.lb.name, { conns: m.get(b.name) ?? -1, old });
    }),
  );
  return out;
}

export async function drainBackend(
  inv: Inventory,
  name: string,
  action: 'drain' | 'undrain',
  opts: BackendDrainOptions,
): Promise<BackendDrainResult> {
  const started = performance.now();
  const { clusters, backend } = findBackend(inv, name);
  const down = action === 'drain';
  const held = await lockAll(clusters, opts);
  const steps: HostStep[] = held.map((h) => ({ host: h.lb.name, changed: false }));
  const base = { action, backend: name, target: targetOf(backend), clusters: clusters.map((c) => c.name) };
  const done = (o: Omit<BackendDrainResult, keyof typeof base | 'hosts' | 'durationMs'>): BackendDrainResult => ({
    ...base,
    ...o,
    hosts: steps,
    durationMs: Math.round(performance.now() - started),
  });
  try {
    if (down)
      for (const c of clusters) {
        const drained = new Set(
          held.filter((h) => h.cluster === c).flatMap((h) => h.facts.drain?.backends.map((x) => x.name) ?? []),
        );
        const p = lastServerProblem(c, name, drained);
        if (p) throw new RefusedError(p);
      }
    // Every host's request is built (and refused) before any host changes.
    const requests = new Map(held.map((h) => [h.lb.name, hostRequest(h, backend, down)]));
    let lastReload = performance.now();
    for (const c of clusters)
      for (const lbName of rollingOrder(c)) {
        const h = held.find((x) => x.cluster === c && x.lb.name === lbName)!;
        const req = requests.get(lbName);
        if (!req) continue;
        if (opts.signal?.aborted)
          return done({
            ok: false,
            safeToStop: false,
            message: `interrupted before ${lbName}; each load balancer has ${name} either as before or ${down ? 'down' : 'back'}`,
          });
        opts.onProgress?.(`${lbName}: ${down ? 'marking' : 'unmarking'} ${name} down in nginx (nginx -t, reload)`);
        await runTransaction(h.t, req, []);
        if (req.reload.length) {
          h.reloaded = true;
          await nginxServes(h);
        }
        steps.find((s) => s.host === lbName)!.changed = true;
        lastReload = performance.now();
      }
    if (!down)
      return done({ ok: true, safeToStop: false, message: `${name} (${targetOf(backend)}) is in service again` });
    return done(await waitConnections(held, steps, backend, opts, lastReload));
  } finally {
    await releaseAll(held);
  }
}

async function waitConnections(
  held: Held[],
  steps: HostStep[],
  b: Backend,
  opts: BackendDrainOptions,
  since: number,
): Promise<Omit<BackendDrainResult, 'action' | 'backend' | 'target' | 'clusters' | 'hosts' | 'durationMs'>> {
  const deadline = performance.now() + (opts.timeoutS ?? 60) * 1000;
  for (;;) {
    const last = await connections(held, b);
    for (const s of steps) {
      s.connections = last.get(s.host)?.conns;
      s.oldWorkers = last.get(s.host)?.old;
    }
    const all = [...last];
    const noSs = all.filter(([, l]) => l.conns < 0).map(([h]) => h);
    if (noSs.length)
      return {
        ok: false,
        safeToStop: false,
        message: `${b.name} is down in nginx, but ${noSs.join(', ')} has no ss to count its connections: check them by hand before stopping it`,
      };
    const busy = all.filter(([, l]) => l.conns > 0 || l.old > 0);
    if (busy.length === 0) {
      const ms = Math.round(performance.now() - since);
      return {
        ok: true,
        safeToStop: true,
        connectionsGoneMs: ms,
        message: `${b.name} (${targetOf(b)}) is drained: no load balancer has a connection to it or an nginx worker from before the change (${ms} ms after the last reload); it is safe to stop it`,
      };
    }
    const what = busy
      .map(([h, l]) =>
        [
          l.conns > 0 && `${h}: ${l.conns} connection(s)`,
          l.old > 0 && `${h}: ${l.old} nginx worker(s) from before its reload, which may still send it requests`,
        ]
          .filter(Boolean)
          .join(', '),
      )
      .join('; ');
    if (performance.now() >= deadline || opts.signal?.aborted)
      return {
        ok: false,
        safeToStop: false,
        message: `${b.name} is down in nginx, but after ${opts.timeoutS ?? 60} s it is still in use (${what}): not safe to stop it yet (wait, or raise --timeout; an old worker ends once its clients' requests and connections do)`,
      };
    opts.onProgress?.(`waiting for ${b.name} to be out of use (${what})`);
    await sleep(500, opts.signal).catch(() => undefined);
  }
}
