/**
 * The checks deploy runs after a rollout: every VIP held by exactly one load balancer (given
 * VRRP its convergence time), and every site answering through each of its VIPs with its
 * server name, from this machine.
 */
import type { Cluster, Inventory, Vip } from '../inventory/model.js';
import { convergenceMs } from '../inventory/vrrp-math.js';
import { holds, type HostFacts } from '../remote/facts.js';
import { gather } from '../remote/section.js';
import { netSection } from '../remote/sections/host.js';
import type { Transport } from '../transport/transport.js';
import { header, httpGet, is2xx, type HttpClient } from '../util/http.js';
import { waitFor } from '../util/wait-for.js';
import { vipVerdict } from './verdicts.js';
import { tlsTarget } from './tls-checks.js';
import { clusterProbeToken, probeHeaders } from '../render/probe-token.js';

export interface Check {
  kind: string;
  cluster: string;
  target: string;
  ok: boolean;
  detail: string;
  /** Passes, but deserves a look: nodes on different keepalived versions during an upgrade, a certificate near its expiry. */
  warning?: boolean;
  /** Structured facts behind the detail, for --json (TLS checks: fingerprints, dates). */
  data?: Record<string, unknown>;
}

/** The load balancers holding the VIP now: only their addresses are read (one small section each). */
export async function vipHolders(
  vip: Vip,
  lbs: string[],
  transport: (lb: string) => Transport | undefined,
): Promise<string[]> {
  const held = await Promise.all(
    lbs.map(async (lb) => {
      const t = transport(lb);
      if (!t) throw new Error(`${lb}: not connected`);
      const [net] = await gather(t, [netSection] as const, { step: 'addresses', timeoutMs: 10_000 });
      return holds(net, vip.ip) ? [lb] : [];
    }),
  );
  return held.flat();
}

/** Waits (bounded by the cluster's convergence time) until the VIP has its one expected holder. */
async function vipCheck(
  cluster: Cluster,
  vip: Vip,
  transport: (lb: string) => Transport | undefined,
  signal?: AbortSignal,
  known?: (lb: string) => HostFacts | undefined,
  drained: readonly string[] = [],
): Promise<Check> {
  const lbs = cluster.lbs.map((l) => l.name);
  const target = `${vip.name} ${vip.cidr}`;
  let last: string[] = [];
  // Set when the last observation itself failed (a dropped connection): never reported as "VIP down".
  let unobserved: string | undefined;
  let first = known !== undefined && lbs.every((lb) => known(lb) !== undefined);
  const verdict = () => vipVerdict(vip, last, [], drained);
  try {
    await waitFor(
      async () => {
        try {
          last = first ? lbs.filter((lb) => holds(known!(lb)!, vip.ip)) : await vipHolders(vip, lbs, transport);
          unobserved = undefined;
        } catch (e) {
          unobserved = (e as Error).message;
          throw e;
        } finally {
          first = false;
        }
        return verdict().ok;
      },
      { timeoutMs: convergenceMs(cluster, [vip]), intervalMs: 200, what: `${vip.name} to have one holder`, signal },
    );
  } catch {
    if (unobserved !== undefined)
      return {
        kind: 'vip',
        cluster: cluster.name,
        target,
        ok: false,
        detail: `could not see who holds it: ${unobserved}`,
      };
  }
  const v = verdict();
  return { kind: 'vip', cluster: cluster.name, target, ok: v.ok, detail: v.detail };
}

/** Through each VIP, with the probe token deploy has just rendered, so the answer names who served it. */
async function siteChecks(cluster: Cluster, http: HttpClient): Promise<Check[]> {
  const out: Check[] = [];
  const headers = probeHeaders(clusterProbeToken(cluster));
  for (const site of cluster.sites)
    for (const vip of site.vips) {
      const host = site.healthHost;
      const tls = tlsTarget(site, host);
      const r = await http(
        { ip: vip.ip, port: site.port, host, path: site.healthPath, timeoutMs: 3000, ...(tls ? { tls } : {}) },
        headers,
      );
      const lb = header(r, 'x-hactl-lb');
      const upstream = header(r, 'x-hactl-upstream');
      const who = [lb && `lb ${lb}`, upstream && `backend ${upstream}`].filter(Boolean).join(', ');
      out.push({
        kind: 'site',
        cluster: cluster.name,
        target: `${tls ? 'https' : 'http'}://${host}${site.healthPath} via ${vip.ip}:${site.port}`,
        ok: is2xx(r),
        detail: is2xx(r) ? `${r.status} in ${r.ms} ms${who ? ` (${who})` : ''}` : `${r.status || r.error}`,
      });
    }
  return out;
}

export async function postDeployChecks(
  inv: Inventory,
  transport: (lb: string) => Transport | undefined,
  signal?: AbortSignal,
  /** Facts already read in this run (a no-op deploy): the first observation of the VIP holders, saving a round trip. */
  known?: (lb: string) => HostFacts | undefined,
  http: HttpClient = httpGet,
  /** Load balancers drained with `hactl drain` (not holding their VIPs is intended). */
  drained: readonly string[] = [],
): Promise<Check[]> {
  const perCluster = await Promise.all(
    inv.clusters.map(async (cluster) => {
      const vips: Check[] = [];
      for (const vip of cluster.vips) vips.push(await vipCheck(cluster, vip, transport, signal, known, drained));
      return [...vips, ...(await siteChecks(cluster, http))];
    }),
  );
  return perCluster.flat();
}
