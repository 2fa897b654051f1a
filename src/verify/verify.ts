/**
 * hactl verify: is the front end healthy right now, and if not, why? One facts round trip per
 * load balancer (services, nginx -t, sysctl, files, addresses, firewall, HTTP from the LB to
 * every backend and through every VIP), plus HTTP from this machine through every VIP, all in
 * parallel. Split brain triggers a bounded diagnosis.
 */
import type { Cluster, Inventory, LoadBalancer, Vip } from '../inventory/model.js';
import type { Transport } from '../transport/transport.js';
import { renderInventory, type HostRender } from '../render/render.js';
import {
  factsScript,
  holds,
  parseFacts,
  type HostFacts,
  type HttpProbe,
  type ProbeResult,
} from '../facts/host-facts.js';
import { sh } from '../shell/quote.js';
import { fileChange } from '../plan/plan.js';
import { httpGet } from './http.js';
import { configFindings, firewallFindings, observeAdverts, readFirewalls, type Finding } from './diagnose.js';
import type { Check } from './post-deploy.js';

export interface VipStatus {
  cluster: string;
  name: string;
  address: string;
  master: string;
  holders: string[];
}

export interface VerifyReport {
  ok: boolean;
  checks: Check[];
  vips: VipStatus[];
  findings: Finding[];
  facts: Map<string, HostFacts>;
  durationMs: number;
}

export interface VerifyOptions {
  connect: (lb: LoadBalancer) => Promise<Transport>;
  /** Watch VRRP adverts when a VIP has two holders (bounded: 2 × advert_int). Default: true. */
  diagnose?: boolean;
  timeoutMs?: number;
}

function probesFor(cluster: Cluster): HttpProbe[] {
  const probes: HttpProbe[] = [];
  for (const site of cluster.sites) {
    for (const name of site.backends) {
      const b = cluster.backends.find((x) => x.name === name)!;
      probes.push({
        id: `b-${site.name}-${b.name}`,
        ip: b.address,
        port: b.port,
        host: site.healthHost,
        path: site.healthPath,
      });
    }
    for (const vipName of site.vips) {
      const vip = cluster.vips.find((v) => v.name === vipName)!;
      probes.push({
        id: `s-${site.name}-${vip.name}`,
        ip: vip.ip,
        port: site.port,
        host: site.healthHost,
        path: site.healthPath,
      });
    }
  }
  return [...new Map(probes.map((p) => [p.id, p])).values()];
}

/**
 * The LB's HTTP probes, wrapped around the facts script: one curl (its startup is the costly
 * part) makes every request, in parallel, in the background while the facts are gathered;
 * the @@vprobes section prints its lines at the end. Each request is its own --next group
 * (own Host header and -w line). A curl without --parallel (before 7.66) writes nothing and
 * the requests are repeated one after another. %header{} needs curl 7.84+; older curls print
 * it verbatim and parseProbes drops it.
 */
export function probeScript(probes: HttpProbe[]): { start: string; collect: string } {
  const groups = probes
    .map((p) => {
      const url = `http://${p.ip.includes(':') ? `[${p.ip}]` : p.ip}:${p.port}${p.path}`;
      return sh([
        '-s',
        '-o',
        '/dev/null',
        '-m',
        '2',
        '-w',
        `${p.id} %{http_code} %{time_total} %header{x-hactl-upstream}\n`,
        '-H',
        `Host: ${p.host}`,
        url,
      ]);
    })
    .join(' --next ');
  const start = probes.length
    ? `hv_p=$(mktemp) || exit 1; { curl --parallel --parallel-immediate ${groups} > "$hv_p" 2>/dev/null; [ -s "$hv_p" ] || curl ${groups} > "$hv_p" 2>/dev/null; } &`
    : 'hv_p=/dev/null';
  const collect = [
    'wait',
    'echo @@vprobes',
    'while read -r hv_l; do echo "$hv_l"; done < "$hv_p"',
    '[ "$hv_p" = /dev/null ] || rm -f "$hv_p"',
    'echo @@vprobesend',
  ];
  return { start, collect: collect.join('\n') };
}

export function parseProbes(output: string): ProbeResult[] {
  const start = output.indexOf('@@vprobes\n');
  if (start < 0) return [];
  const end = output.indexOf('@@vprobesend', start);
  return output
    .slice(start + 10, end < 0 ? undefined : end)
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => {
      const [id, status, secs, ...rest] = l.trim().split(' ');
      const upstream = rest.join(' ').trim();
      return {
        id,
        status: Number(status) || 0,
        ms: Math.round(Number(secs) * 1000),
        upstream: upstream && !upstream.startsWith('%') ? upstream : undefined,
      };
    });
}

async function lbFacts(t: Transport, render: HostRender, timeoutMs: number): Promise<HostFacts> {
  const probes = probeScript(probesFor(render.cluster));
  const facts = factsScript({
    files: render.files.map((f) => f.path),
    statusPort: render.cluster.nginxStatusPort,
    nginxTest: true,
  });
  const r = await t.exec(`${probes.start}\n${facts}\n${probes.collect}`, { timeoutMs });
  if (r.code !== 0) throw new Error(`facts script failed (exit ${r.code}): ${r.stderr.trim()}`);
  return { ...parseFacts(r.stdout), probes: parseProbes(r.stdout) };
}

function lbChecks(render: HostRender, f: HostFacts): Check[] {
  const c = render.cluster.name;
  const lb = render.lb.name;
  const out: Check[] = [];
  const add = (kind: string, target: string, ok: boolean, detail: string) =>
    out.push({ kind, cluster: c, target, ok, detail });
  add('keepalived', lb, f.running.keepalived, f.running.keepalived ? 'running' : 'keepalived is not running');
  add(
    'nginx',
    lb,
    f.running.nginx,
    f.running.nginx ? (f.nginxStatus ? 'running, status endpoint answers' : 'running') : 'nginx is not running',
  );
  if (f.nginxTest)
    add(
      'nginx -t',
      lb,
      f.nginxTest.ok,
      f.nginxTest.ok
        ? 'configuration valid'
        : f.nginxTest.output
            .split('\n')
            .filter((l) => /emerg|error|failed/.test(l))
            .join(' ') || 'nginx -t failed',
    );
  const bind = f.sysctl['ipv4/ip_nonlocal_bind'];
  add(
    'sysctl',
    `${lb} net.ipv4.ip_nonlocal_bind`,
    bind === '1',
    bind === '1' ? '1' : `is ${bind ?? 'unreadable'}, nginx cannot listen on a VIP it does not hold`,
  );
  for (const file of render.files) {
    const ch = fileChange(file, f, render.secrets);
    const ok = ch.action === 'unchanged';
    add(
      'drift',
      `${lb}:${file.path}`,
      ok,
      ok
        ? 'matches the inventory'
        : ch.action === 'create'
          ? 'missing (not deployed?)'
          : `differs from the inventory (${ch.reasons.join(', ')}): hand edit?\n${ch.diff.split('\n').slice(2).join('\n').trimEnd()}`,
    );
  }
  for (const site of render.cluster.sites)
    for (const name of site.backends) {
      const b = render.cluster.backends.find((x) => x.name === name)!;
      const p = f.probes.find((x) => x.id === `b-${site.name}-${b.name}`);
      const ok = p !== undefined && p.status >= 200 && p.status < 300;
      add(
        'backend',
        `${lb} → ${b.name} ${b.address}:${b.port}${site.healthPath} (Host ${site.healthHost})`,
        ok,
        p
          ? p.status
            ? `${p.status} in ${p.ms} ms`
            : `no answer (connection refused or timed out after ${p.ms} ms)`
          : 'not probed',
      );
    }
  for (const site of render.cluster.sites)
    for (const vipName of site.vips) {
      const vip = render.cluster.vips.find((v) => v.name === vipName)!;
      const p = f.probes.find((x) => x.id === `s-${site.name}-${vip.name}`);
      const backends = render.cluster.backends
        .filter((b) => site.backends.includes(b.name))
        .map((b) => `${b.address}:${b.port}`);
      const fromSite = !p?.upstream || p.upstream.split(/[ ,]+/).some((u) => backends.includes(u));
      const ok = p !== undefined && p.status >= 200 && p.status < 300 && fromSite;
      add(
        'site',
        `${lb} → http://${site.healthHost}${site.healthPath} via ${vip.ip}:${site.port}`,
        ok,
        !p
          ? 'not probed'
          : !p.status
            ? `no answer after ${p.ms} ms`
            : fromSite
              ? `${p.status} in ${p.ms} ms${p.upstream ? ` from ${p.upstream}` : ''}`
              : `${p.status}, but answered by ${p.upstream}, not a backend of ${site.name}`,
      );
    }
  return out;
}

async function operatorSiteChecks(cluster: Cluster): Promise<Check[]> {
  const jobs = cluster.sites.flatMap((site) =>
    site.vips.map(async (vipName): Promise<Check> => {
      const vip = cluster.vips.find((v) => v.name === vipName)!;
      const r = await httpGet({
        ip: vip.ip,
        port: site.port,
        host: site.healthHost,
        path: site.healthPath,
        timeoutMs: 2000,
      });
      const upstream = String(r.headers['x-hactl-upstream'] ?? '');
      const backends = cluster.backends
        .filter((b) => site.backends.includes(b.name))
        .map((b) => `${b.address}:${b.port}`);
      const fromSite = !upstream || upstream.split(/[ ,]+/).some((u) => backends.includes(u));
      const lb = r.headers['x-hactl-lb'];
      return {
        kind: 'site',
        cluster: cluster.name,
        target: `this machine → http://${site.healthHost}${site.healthPath} via ${vip.ip}:${site.port}`,
        ok: r.ok && fromSite,
        detail: r.status
          ? `${r.status} in ${r.ms} ms${lb ? ` via ${lb}` : ''}${upstream ? ` from ${upstream}` : ''}${fromSite ? '' : `: not a backend of ${site.name}`}`
          : `no answer: ${r.error}`,
      };
    }),
  );
  return Promise.all(jobs);
}

export function vipChecks(cluster: Cluster, facts: Map<string, HostFacts>): { checks: Check[]; vips: VipStatus[] } {
  const checks: Check[] = [];
  const vips: VipStatus[] = [];
  for (const vip of cluster.vips) {
    const holders = cluster.lbs
      .filter((lb) => facts.has(lb.name) && holds(facts.get(lb.name)!, vip.ip))
      .map((lb) => lb.name);
    vips.push({ cluster: cluster.name, name: vip.name, address: vip.cidr, master: vip.master, holders });
    const target = `${vip.name} ${vip.cidr}`;
    if (holders.length === 0)
      checks.push({
        kind: 'vip',
        cluster: cluster.name,
        target,
        ok: false,
        detail: 'VIP down: no load balancer holds it',
      });
    else if (holders.length > 1)
      checks.push({
        kind: 'vip',
        cluster: cluster.name,
        target,
        ok: false,
        detail: `SPLIT BRAIN: held by ${holders.join(' and ')}`,
      });
    else if (holders[0] !== vip.master)
      checks.push({
        kind: 'vip',
        cluster: cluster.name,
        target,
        ok: !vip.preempt,
        detail: `held by ${holders[0]}, not its master ${vip.master}: ${vip.preempt ? `a failover happened and ${vip.master} has not taken it back (is it healthy?)` : 'preemption is off, so it stays until the holder fails'}`,
      });
    else
      checks.push({
        kind: 'vip',
        cluster: cluster.name,
        target,
        ok: true,
        detail: `held by ${holders[0]} (its master)`,
      });
  }
  return { checks, vips };
}

export async function verify(inv: Inventory, opts: VerifyOptions): Promise<VerifyReport> {
  const started = performance.now();
  // Connections first: the handshakes overlap rendering the files to compare against.
  const connecting = new Map(inv.clusters.flatMap((c) => c.lbs).map((lb) => [lb.name, opts.connect(lb)]));
  for (const p of connecting.values()) p.catch(() => undefined);
  const renders = renderInventory(inv);
  const transports = new Map<string, Transport>();
  const facts = new Map<string, HostFacts>();
  const hostChecks = new Map<string, Check[]>();
  const siteChecks = new Map<string, Check[]>();
  try {
    const hostJobs = renders.map(async (r) => {
      try {
        const t = await connecting.get(r.lb.name)!;
        transports.set(r.lb.name, t);
        const f = await lbFacts(t, r, opts.timeoutMs ?? 15000);
        facts.set(r.lb.name, f);
        hostChecks.set(r.lb.name, lbChecks(r, f));
      } catch (e) {
        hostChecks.set(r.lb.name, [
          { kind: 'ssh', cluster: r.cluster.name, target: r.lb.name, ok: false, detail: (e as Error).message },
        ]);
      }
    });
    const siteJobs = inv.clusters.map(async (c) => siteChecks.set(c.name, await operatorSiteChecks(c)));
    await Promise.all([...hostJobs, ...siteJobs]);
    const checks: Check[] = [];
    const vips: VipStatus[] = [];
    const findings: Finding[] = [];
    await Promise.all(
      inv.clusters.map(async (cluster) => {
        // Inventory order, whichever host answered first.
        const own: Check[] = [
          ...cluster.lbs.flatMap((lb) => hostChecks.get(lb.name) ?? []),
          ...(siteChecks.get(cluster.name) ?? []),
        ];
        const v = vipChecks(cluster, facts);
        const clusterFacts = new Map(
          cluster.lbs.filter((lb) => facts.has(lb.name)).map((lb) => [lb.name, facts.get(lb.name)!]),
        );
        const found: Finding[] = [];
        const split: Vip[] = [];
        for (const status of v.vips) {
          const vip = cluster.vips.find((x) => x.name === status.name)!;
          // Nodes that disagree on disk are a problem even before they split.
          found.push(...configFindings(cluster, vip, clusterFacts));
          if (status.holders.length >= 2) split.push(vip);
        }
        if (split.length) {
          await readFirewalls(clusterFacts, (n) => transports.get(n)!);
          for (const vip of split) found.push(...firewallFindings(vip, clusterFacts));
        }
        // One bounded observation for every split VIP of the cluster (one stats dump covers all instances).
        if (split.length && opts.diagnose !== false)
          found.push(...(await observeAdverts(split, [...clusterFacts.keys()], (n) => transports.get(n)!)));
        return { own: [...own, ...v.checks], vips: v.vips, found };
      }),
    ).then((perCluster) =>
      perCluster.forEach((x) => {
        checks.push(...x.own);
        vips.push(...x.vips);
        findings.push(...x.found);
      }),
    );
    return {
      ok: checks.every((c) => c.ok),
      checks,
      vips,
      findings,
      facts,
      durationMs: Math.round(performance.now() - started),
    };
  } finally {
    await Promise.all([...connecting.values()].map((p) => p.then((t) => t.close()).catch(() => undefined)));
  }
}
