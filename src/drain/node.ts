/**
 * hactl drain / undrain of a load balancer: one number in a file keepalived tracks
 * (track_file hactl_drain, weight 1), written atomically, so keepalived moves the VIPs without
 * a stop or a reload. -253 puts the node's priority at 1, below every peer, and the peers
 * take the VIPs over while it still serves; a VIP without preemption would not move for a
 * lower priority, so there -254 puts the node in FAULT (keepalived then sends priority 0). The
 * file survives a keepalived restart and a deploy, so the node stays out until undrained.
 */
import { HactlError, RefusedError } from '../errors.js';
import type { Cluster, Inventory, LoadBalancer, Vip } from '../inventory/model.js';
import { convergenceMs } from '../inventory/vrrp-math.js';
import { holds } from '../remote/facts.js';
import { HOST_PATHS } from '../remote/paths.js';
import { cmd, hostPath, render, script } from '../remote/script.js';
import { gather } from '../remote/section.js';
import { isNodeDrained } from '../remote/sections/drain.js';
import { netSection } from '../remote/sections/host.js';
import { DRAIN_TRACK_NAME } from '../render/render.js';
import type { LbConnector, Transport } from '../transport/transport.js';
import { is2xx, type HttpClient } from '../util/http.js';
import { waitFor } from '../util/wait-for.js';
import { nodeVrrpState } from '../verify/verdicts.js';
import { closeAll, findLb, readCluster, type NodeRead } from './cluster-read.js';

/** Below every peer (priority 1). */
export const DRAIN_PRIORITY = -253;
/** FAULT: for VIPs without preemption, where a lower priority moves nothing. */
export const DRAIN_FAULT = -254;

export interface NodeDrainOptions {
  connect: LbConnector;
  http: HttpClient;
  /** Drain even when this node is the last healthy one of a VIP (after `confirm`). */
  force?: boolean;
  /** Asked with the reasons when --force overrides them; false: nothing changes. */
  confirm?: (blockers: string[]) => Promise<boolean>;
  /** How long to wait for the VIPs to move (default: the cluster's convergence time, twice). */
  timeoutMs?: number;
  signal?: AbortSignal;
  onProgress?: (line: string) => void;
}

export interface VipMove {
  vip: string;
  address: string;
  /** Who held it before and after. */
  before: string[];
  after: string[];
  /** Milliseconds from the write until it was where it should be. */
  ms?: number;
}

export interface NodeDrainResult {
  ok: boolean;
  action: 'drain' | 'undrain';
  cluster: string;
  node: string;
  /** The value written (0: in service), or undefined when nothing was written. */
  value?: number;
  changed: boolean;
  forced: boolean;
  /** Why a drain would leave a VIP without a healthy holder (overridden with --force). */
  blockers: string[];
  vips: VipMove[];
  sites: { url: string; ok: boolean; detail: string }[];
  message: string;
  durationMs: number;
}

/** Why `peer` cannot take over `vip` (undefined: it can). */
function unhealthy(n: NodeRead, vip: Vip): string | undefined {
  if (!n.facts) return `unreachable (${n.error ?? 'not read'})`;
  if (isNodeDrained(n.facts.drain)) return 'drained';
  if (!n.facts.running.keepalived) return 'keepalived is not running';
  if (!n.facts.running.nginx) return 'nginx is not running';
  if (!n.facts.nginxStatus?.startsWith(`ok ${n.lb.name}`)) return 'nginx does not answer its status endpoint';
  const { state } = nodeVrrpState(vip, n.facts, n.keepalived);
  if (state !== 'MASTER' && state !== 'BACKUP') return `its ${vip.name} instance is ${state}`;
  return undefined;
}

/** For each VIP of the node's cluster: the reason draining leaves it without a healthy holder. */
export function drainBlockers(cluster: Cluster, node: string, nodes: readonly NodeRead[]): string[] {
  const out: string[] = [];
  for (const vip of cluster.vips) {
    if (!vip.nodes.some((n) => n.lb === node)) continue;
    const peers = nodes.filter((n) => n.lb.name !== node && vip.nodes.some((v) => v.lb === n.lb.name));
    const why = peers.map((p) => [p.lb.name, unhealthy(p, vip)] as const);
    if (why.every(([, w]) => w !== undefined))
      out.push(
        `${node} is the last healthy node of ${vip.name} (${vip.cidr}): ${why.map(([n, w]) => `${n} ${w}`).join('; ') || 'it has no other node'}`,
      );
  }
  return out;
}

/** The tracker must be in the deployed keepalived.conf, or writing the file changes nothing. */
function trackerProblem(n: NodeRead): string | undefined {
  if (!n.facts) return `${n.lb.name}: cannot read it (${n.error ?? 'not read'}); nothing was changed`;
  const conf = n.facts.files[HOST_PATHS.keepalivedConf]?.content ?? '';
  if (!new RegExp(`^track_file ${DRAIN_TRACK_NAME} \\{`, 'm').test(conf)) {
    const v = n.facts.programs.keepalived?.version;
    return v && !/^(2\.([1-9]|\d\d)|[3-9])/.test(v)
      ? `${n.lb.name}: keepalived ${v} has no track_file (2.1 and later): upgrade keepalived, then run hactl deploy; nothing was changed`
      : `${n.lb.name}: ${HOST_PATHS.keepalivedConf} has no hactl drain tracker (track_file ${DRAIN_TRACK_NAME}): run hactl deploy first; nothing was changed`;
  }
  if (n.facts.drain && Number.isNaN(n.facts.drain.node))
    return `${n.lb.name}: ${HOST_PATHS.drainFile} holds "${n.facts.drain.nodeText}", not a number: write 0 into it (in service) or run hactl undrain ${n.lb.name}`;
  return undefined;
}

/** The one write: a new file renamed over the old, so the host has the old value or the new one. */
export function drainWriteScript(value: number, root = ''): string {
  const file = hostPath(HOST_PATHS.drainFile);
  const tmp = hostPath(`${HOST_PATHS.drainFile}.new`);
  return render(
    script(
      cmd`mkdir -p ${hostPath(HOST_PATHS.stateDir)}`,
      cmd`printf '%s\\n' ${value} > ${tmp} && mv -f ${tmp} ${file}`,
    ),
    root,
  );
}

async function holdersOf(cluster: Cluster, nodes: readonly NodeRead[], vip: Vip): Promise<string[]> {
  const held = await Promise.all(
    nodes.map(async (n) => {
      if (!n.transport) throw new Error(`${n.lb.name}: not connected`);
      const [net] = await gather(n.transport, [netSection] as const, { step: 'addresses', timeoutMs: 10_000 });
      return holds(net, vip.ip) ? [n.lb.name] : [];
    }),
  );
  return held.flat();
}

/** Where each VIP should be once the write took effect (undefined: anywhere but `node`). */
function wanted(vip: Vip, node: string, action: 'drain' | 'undrain', before: string[]): string | undefined {
  if (action === 'drain') return undefined;
  // Undrain: a preempting VIP goes back to its master; without preemption it stays where it is.
  return vip.preempt ? vip.master : before[0];
}

async function siteChecks(cluster: Cluster, http: HttpClient) {
  const out: NodeDrainResult['sites'] = [];
  for (const site of cluster.sites)
    for (const vip of site.vips) {
      if (site.tls) continue;
      const r = await http({
        ip: vip.ip,
        port: site.port,
        host: site.healthHost,
        path: site.healthPath,
        timeoutMs: 3000,
      });
      out.push({
        url: `http://${site.healthHost}${site.healthPath} via ${vip.ip}:${site.port}`,
        ok: is2xx(r),
        detail: is2xx(r) ? `${r.status} in ${r.ms} ms` : `${r.status || r.error}`,
      });
    }
  return out;
}

async function write(t: Transport, value: number): Promise<void> {
  const r = await t.exec(drainWriteScript(value, t.rootPrefix), { timeoutMs: 20_000 });
  if (r.code !== 0)
    throw new HactlError(
      `${t.name}: could not write ${HOST_PATHS.drainFile} (exit ${r.code}): ${r.stderr.trim()}; the file keeps its previous value`,
    );
}

function drainValue(cluster: Cluster, node: string): number {
  const held = cluster.vips.filter((v) => v.nodes.some((n) => n.lb === node));
  return held.some((v) => !v.preempt) ? DRAIN_FAULT : DRAIN_PRIORITY;
}

/** Waits, VIP by VIP, until each is where the write should have put it; the first timeout ends it. */
async function waitMoves(
  cluster: Cluster,
  lb: LoadBalancer,
  nodes: NodeRead[],
  vipsOf: Vip[],
  before: Map<string, string[]>,
  action: 'drain' | 'undrain',
  opts: NodeDrainOptions,
): Promise<{ moves: VipMove[]; waitError?: string }> {
  const t0 = performance.now();
  const moves: VipMove[] = [];
  for (const vip of vipsOf) {
    const b = before.get(vip.name) ?? [];
    const want = wanted(vip, lb.name, action, b);
    const move: VipMove = { vip: vip.name, address: vip.cidr, before: b, after: b };
    moves.push(move);
    const good = (h: string[]) => (want ? h.length === 1 && h[0] === want : h.length === 1 && h[0] !== lb.name);
    opts.onProgress?.(`${vip.name}: waiting until it is held by ${want ?? `a node other than ${lb.name}`}`);
    try {
      await waitFor(
        async () => {
          move.after = await holdersOf(cluster, nodes, vip);
          return good(move.after);
        },
        {
          timeoutMs: opts.timeoutMs ?? 2 * convergenceMs(cluster, [vip]),
          intervalMs: 100,
          what: `${vip.name} to be held by ${want ?? `a node other than ${lb.name}`}`,
          ...(opts.signal ? { signal: opts.signal } : {}),
        },
      );
      move.ms = Math.round(performance.now() - t0);
    } catch (e) {
      return { moves, waitError: (e as Error).message };
    }
  }
  return { moves };
}

export async function drainNode(
  inv: Inventory,
  name: string,
  action: 'drain' | 'undrain',
  opts: NodeDrainOptions,
): Promise<NodeDrainResult> {
  const started = performance.now();
  const { cluster, lb } = findLb(inv, name);
  const nodes = await readCluster(cluster, opts.connect, opts.signal);
  try {
    return await drainRead(cluster, lb, nodes, action, opts, started);
  } finally {
    await closeAll(nodes);
  }
}

async function drainRead(
  cluster: Cluster,
  lb: LoadBalancer,
  nodes: NodeRead[],
  action: 'drain' | 'undrain',
  opts: NodeDrainOptions,
  started: number,
): Promise<NodeDrainResult> {
  const self = nodes.find((n) => n.lb.name === lb.name)!;
  const problem = trackerProblem(self);
  if (problem) throw new RefusedError(problem);
  const base = { action, cluster: cluster.name, node: lb.name, forced: false, sites: [] as NodeDrainResult['sites'] };
  const blockers = action === 'drain' ? drainBlockers(cluster, lb.name, nodes) : [];
  const value = action === 'drain' ? drainValue(cluster, lb.name) : 0;
  const current = self.facts!.drain?.node ?? 0;
  const vipsOf = cluster.vips.filter((v) => v.nodes.some((n) => n.lb === lb.name));
  const before = new Map(
    vipsOf.map((v) => [v.name, nodes.filter((n) => n.facts && holds(n.facts, v.ip)).map((n) => n.lb.name)]),
  );
  if (blockers.length && !opts.force)
    throw new RefusedError(
      `${blockers.join('\n')}\nnothing was changed; fix the other node first, or drain anyway with --force (the VIP then has no healthy holder)`,
    );
  if (blockers.length && opts.confirm && !(await opts.confirm(blockers)))
    return {
      ...base,
      ok: false,
      changed: false,
      blockers,
      vips: [],
      message: 'not confirmed; nothing was changed',
      durationMs: Math.round(performance.now() - started),
    };
  const changed = (current !== 0) !== (value !== 0) || (value !== 0 && current !== value);
  if (changed) {
    opts.onProgress?.(`${lb.name}: writing ${value} to ${HOST_PATHS.drainFile}`);
    await write(self.transport!, value);
  }
  const { moves, waitError } = await waitMoves(cluster, lb, nodes, vipsOf, before, action, opts);
  const sites = waitError ? [] : await siteChecks(cluster, opts.http);
  const badSites = sites.filter((s) => !s.ok);
  const ok = !waitError && badSites.length === 0;
  const state = action === 'drain' ? `${lb.name} is drained (${value})` : `${lb.name} is in service again`;
  const message = waitError
    ? `${state}, but ${waitError}`
    : badSites.length
      ? `${state}, but ${badSites.map((s) => `${s.url}: ${s.detail}`).join('; ')}`
      : `${state}${changed ? '' : ' (it already was)'}: ${moves.map((m) => `${m.vip} on ${m.after.join(', ') || 'nobody'}${m.ms !== undefined ? ` after ${m.ms} ms` : ''}`).join(', ') || 'it holds no VIP'}`;
  return {
    ...base,
    ok,
    value,
    changed,
    forced: blockers.length > 0,
    blockers,
    vips: moves,
    sites,
    message,
    durationMs: Math.round(performance.now() - started),
  };
}
