/**
 * The checks deploy runs after a rollout: every VIP held by exactly one load balancer (given
 * VRRP its convergence time), and every site answering through each of its VIPs with its
 * server name, from this machine.
 */
import type { Inventory, Vip } from '../inventory/model.js';
import type { Transport } from '../transport/transport.js';
import type { HostRender } from '../render/render.js';
import { factsScript, holds, parseFacts, type HostFacts } from '../facts/host-facts.js';
import { httpGet } from './http.js';
import { waitFor } from '../util/wait-for.js';

export interface Check {
  kind: string;
  cluster: string;
  target: string;
  ok: boolean;
  detail: string;
}

export async function vipHolders(vip: Vip, lbs: string[], transport: (lb: string) => Transport): Promise<string[]> {
  const facts = await Promise.all(
    lbs.map(async (lb) => {
      const r = await transport(lb).exec(factsScript({ files: [], statusPort: 0 }), { timeoutMs: 10000 });
      if (r.code !== 0)
        throw new Error(
          `${lb}: the facts script failed (exit ${r.code})${r.stderr.trim() ? `: ${r.stderr.trim().split('\n')[0]}` : ''}`,
        );
      return { lb, facts: parseFacts(r.stdout) };
    }),
  );
  return facts.filter((f) => holds(f.facts, vip.ip)).map((f) => f.lb);
}

export async function postDeployChecks(
  inv: Inventory,
  transport: (lb: string) => Transport,
  _render: (lb: string) => HostRender,
  signal?: AbortSignal,
  /** Facts already read in this run (a no-op deploy): the first observation of the VIP holders, saving a round trip. */
  known?: (lb: string) => HostFacts | undefined,
): Promise<Check[]> {
  const checks: Check[] = [];
  await Promise.all(
    inv.clusters.map(async (cluster) => {
      const lbs = cluster.lbs.map((l) => l.name);
      for (const vip of cluster.vips) {
        const timeoutMs = Math.round((3 * vip.advertInt + 1 + (vip.preemptDelay ?? 0)) * 1000) + 5000;
        let last: string[] = [];
        // Set when the last observation itself failed (a dropped connection): never reported as "VIP down".
        let unobserved: string | undefined;
        let cached = known !== undefined && lbs.every((lb) => known(lb) !== undefined);
        try {
          const holders = await waitFor(
            async () => {
              try {
                last = cached ? lbs.filter((lb) => holds(known!(lb)!, vip.ip)) : await vipHolders(vip, lbs, transport);
                unobserved = undefined;
              } catch (e) {
                unobserved = (e as Error).message;
                throw e;
              } finally {
                cached = false;
              }
              return last.length === 1 && (!vip.preempt || last[0] === vip.master) ? last : undefined;
            },
            { timeoutMs, intervalMs: 200, what: `${vip.name} to have one holder`, signal },
          );
          checks.push({
            kind: 'vip',
            cluster: cluster.name,
            target: `${vip.name} ${vip.cidr}`,
            ok: true,
            detail: `held by ${holders[0]}`,
          });
        } catch {
          if (unobserved !== undefined) {
            checks.push({
              kind: 'vip',
              cluster: cluster.name,
              target: `${vip.name} ${vip.cidr}`,
              ok: false,
              detail: `could not see who holds it: ${unobserved}`,
            });
            continue;
          }
          const detail =
            last.length === 0
              ? 'VIP down: no load balancer holds it'
              : last.length > 1
                ? `split brain: held by ${last.join(' and ')}`
                : `held by ${last[0]}, expected the master ${vip.master}`;
          checks.push({
            kind: 'vip',
            cluster: cluster.name,
            target: `${vip.name} ${vip.cidr}`,
            ok: vip.preempt ? false : last.length === 1,
            detail,
          });
        }
      }
      for (const site of cluster.sites)
        for (const vipName of site.vips) {
          const vip = cluster.vips.find((v) => v.name === vipName)!;
          const host = site.healthHost;
          const r = await httpGet({ ip: vip.ip, port: site.port, host, path: site.healthPath, timeoutMs: 3000 });
          const who = [
            r.headers['x-hactl-lb'] && `lb ${r.headers['x-hactl-lb']}`,
            r.headers['x-hactl-upstream'] && `backend ${r.headers['x-hactl-upstream']}`,
          ]
            .filter(Boolean)
            .join(', ');
          checks.push({
            kind: 'site',
            cluster: cluster.name,
            target: `http://${host}${site.healthPath} via ${vip.ip}:${site.port}`,
            ok: r.ok,
            detail: r.ok ? `${r.status} in ${r.ms} ms${who ? ` (${who})` : ''}` : `${r.status ?? r.error}`,
          });
        }
    }),
  );
  return checks;
}
