/**
 * hactl verify: is the front end healthy right now, and if not, why? One round trip per load
 * balancer (its facts, `nginx -t`, and HTTP from the LB to every backend and through every
 * VIP, started in the background of the same exec), plus HTTP from this machine through every
 * VIP, all in parallel. Split brain triggers a bounded diagnosis.
 */
import type { Cluster, Inventory, Vip } from '../inventory/model.js';
import { createHash } from 'node:crypto';
import { fileChange, type FileChange } from '../plan/plan.js';
import { holds, readFacts, type HostFacts } from '../remote/facts.js';
import { httpProbesSection, type HttpProbe, type HttpProbeResult } from '../remote/sections/http-probes.js';
import { nginxTestSection, type NginxTest } from '../remote/sections/host.js';
import { leftoversSection, type FaultLeftovers } from '../remote/sections/faults.js';
import { describeLeftovers } from '../failover/leftovers.js';
import { clusterProbeToken, deployedProbeToken, probeHeaders } from '../render/probe-token.js';
import type { Secret } from '../inventory/secret.js';
import { versionsOf } from '../render/features.js';
import { renderHost, renderInventory, type HostRender, type RenderedFile } from '../render/render.js';
import { factsRequest } from '../run/host-ops.js';
import type { LbConnector, Transport } from '../transport/transport.js';
import { header, httpGet, is2xx, type HttpClient } from '../util/http.js';
import { configFindings, firewallFindings, observeAdverts, readFirewalls, type Finding } from './diagnose.js';
import type { Check } from './post-deploy.js';
import { vipVerdict, type VipHealth } from './verdicts.js';

export interface VipStatus {
  cluster: string;
  name: string;
  address: string;
  master: string;
  holders: string[];
  health: VipHealth;
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
  connect: LbConnector;
  /** HTTP from this machine through the VIPs. Default: httpGet. */
  http?: HttpClient;
  /** Watch VRRP adverts when a VIP has two holders (bounded: 2 × advert_int). Default: true. */
  diagnose?: boolean;
  timeoutMs?: number;
}

/** What one load balancer told verify. */
interface LbObservation {
  facts: HostFacts;
  probes: HttpProbeResult[];
  nginxTest: NginxTest;
  leftovers: FaultLeftovers;
}

const backendProbeId = (site: string, backend: string) => `b-${site}-${backend}`;
const vipProbeId = (site: string, vip: string) => `s-${site}-${vip}`;

function probesFor(cluster: Cluster): HttpProbe[] {
  const probes: HttpProbe[] = [];
  for (const site of cluster.sites) {
    const ask = { host: site.healthHost, path: site.healthPath };
    for (const b of site.backends)
      probes.push({ id: backendProbeId(site.name, b.name), ip: b.address, port: b.port, ...ask });
    for (const vip of site.vips)
      probes.push({ id: vipProbeId(site.name, vip.name), ip: vip.ip, port: site.port, ...ask });
  }
  return [...new Map(probes.map((p) => [p.id, p])).values()];
}

const nginxFile = (render: HostRender) => render.files.find((f) => f.service === 'nginx')?.path;

async function observe(t: Transport, render: HostRender, timeoutMs: number): Promise<LbObservation> {
  const tokenFile = nginxFile(render);
  const extra = [
    httpProbesSection(probesFor(render.cluster), tokenFile ? { tokenFile } : {}),
    nginxTestSection,
    leftoversSection(),
  ] as const;
  const { facts, extra: got } = await readFacts(t, factsRequest(render), extra, { step: 'verify', timeoutMs });
  return { facts, probes: got[0], nginxTest: got[1], leftovers: got[2] };
}

/** The probe token this host's deployed nginx file carries. */
function hostToken(render: HostRender, facts: HostFacts): Secret | undefined {
  const path = nginxFile(render);
  return deployedProbeToken(path ? facts.files[path]?.content : undefined);
}

/**
 * What deploy would render for the versions this host runs, with the probe token the host
 * already has: the token is opaque (and verify may not hold the secret it is derived from),
 * so it is never drift; it stays masked in every diff.
 */
function expected(r: HostRender, facts: HostFacts): HostRender {
  const token = hostToken(r, facts);
  const again = renderHost(r.cluster, r.lb, versionsOf(facts.programs), token ? { probeToken: token } : {});
  const own = clusterProbeToken(r.cluster);
  return { ...again, secrets: [...again.secrets, ...(own ? [own] : [])] };
}

function leftoverChecks(render: HostRender, o: LbObservation, add: AddCheck): void {
  const lines = describeLeftovers(o.leftovers);
  if (lines.length === 0) add('leftover', render.lb.name, true, 'nothing left by failover-test');
  for (const l of lines) add('leftover', render.lb.name, false, l);
}

/** "Answered by one of this site's backends" (X-Hactl-Upstream may list several on retries). */
function fromSite(upstream: string | undefined, site: Cluster['sites'][number]): boolean {
  if (!upstream) return true;
  const mine = site.backends.map((b) => `${b.address}:${b.port}`);
  return upstream.split(/[ ,]+/).some((u) => mine.includes(u));
}

function serviceChecks(render: HostRender, o: LbObservation, add: AddCheck): void {
  const lb = render.lb.name;
  const f = o.facts;
  add('keepalived', lb, f.running.keepalived, f.running.keepalived ? 'running' : 'keepalived is not running');
  const nginxDetail = f.nginxStatus ? 'running, status endpoint answers' : 'running';
  add('nginx', lb, f.running.nginx, f.running.nginx ? nginxDetail : 'nginx is not running');
  const errors = o.nginxTest.output.split('\n').filter((l) => /emerg|error|failed/.test(l));
  add('nginx -t', lb, o.nginxTest.ok, o.nginxTest.ok ? 'configuration valid' : errors.join(' ') || 'nginx -t failed');
  for (const [key, want] of Object.entries(render.sysctl)) {
    const v = f.sysctl[key];
    const why = `is ${v ?? 'unreadable'}, nginx cannot listen on a VIP it does not hold`;
    add('sysctl', `${lb} ${key}`, v === want, v === want ? want : why);
  }
}

/** auth_pass values blanked, for comparing keepalived.conf when the password is not known here. */
const maskAuth = (text: string) => text.replace(/^([ \t]*auth_pass[ \t]+)\S*/gm, '$1[REDACTED]');

/**
 * A file as deployed vs as rendered. Without the VRRP password (its variable unset: verify
 * needs no secret) keepalived.conf is compared with auth_pass masked on both sides.
 */
function drift(file: RenderedFile, f: HostFacts, render: HostRender): { change: FileChange; note: string } {
  const unknownSecret = render.secrets.some((x) => x.reveal() === '') && /^\s*auth_pass\s/m.test(file.content);
  if (!unknownSecret) return { change: fileChange(file, f, render.secrets), note: '' };
  const remote = f.files[file.path];
  const masked = remote?.content !== undefined ? { ...remote, content: maskAuth(remote.content) } : remote;
  const content = maskAuth(file.content);
  const sha = (t: string) => createHash('sha256').update(t).digest('hex');
  const change = fileChange(
    { ...file, content, sha256: sha(content) },
    {
      files: {
        [file.path]:
          masked?.content !== undefined ? { ...masked, sha256: sha(masked.content) } : (masked ?? { exists: false }),
      },
    },
    render.secrets,
  );
  return { change, note: ' (auth_pass not compared: the password variable is not set here)' };
}

function driftChecks(render: HostRender, f: HostFacts, add: AddCheck): void {
  for (const file of render.files) {
    const { change: ch, note } = drift(file, f, render);
    const ok = ch.action === 'unchanged';
    const diff = ch.diff.split('\n').slice(2).join('\n').trimEnd();
    const detail = ok
      ? `matches the inventory${note}`
      : ch.action === 'create'
        ? 'missing (not deployed?)'
        : `differs from the inventory (${ch.reasons.join(', ')}): hand edit?${note}\n${diff}`;
    add('drift', `${render.lb.name}:${file.path}`, ok, detail);
  }
}

function probeChecks(render: HostRender, o: LbObservation, add: AddCheck): void {
  const lb = render.lb.name;
  const find = (id: string) => o.probes.find((x) => x.id === id);
  for (const site of render.cluster.sites) {
    for (const b of site.backends) {
      const p = find(backendProbeId(site.name, b.name));
      const ok = p !== undefined && p.status >= 200 && p.status < 300;
      const why = p?.status
        ? `${p.status} in ${p.ms} ms`
        : `no answer (connection refused or timed out after ${p?.ms} ms)`;
      const target = `${lb} → ${b.name} ${b.address}:${b.port}${site.healthPath} (Host ${site.healthHost})`;
      add('backend', target, ok, p ? why : 'not probed');
    }
    for (const vip of site.vips) {
      const p = find(vipProbeId(site.name, vip.name));
      const mine = fromSite(p?.upstream, site);
      const ok = p !== undefined && p.status >= 200 && p.status < 300 && mine;
      const answered = mine
        ? `${p?.status} in ${p?.ms} ms${p?.lb ? ` via ${p.lb}` : ''}${p?.upstream ? ` from ${p.upstream}` : ''}`
        : `${p?.status}, but answered by ${p?.upstream}, not a backend of ${site.name}`;
      const detail = !p ? 'not probed' : !p.status ? `no answer after ${p.ms} ms` : answered;
      add('site', `${lb} → http://${site.healthHost}${site.healthPath} via ${vip.ip}:${site.port}`, ok, detail);
    }
  }
}

type AddCheck = (kind: string, target: string, ok: boolean, detail: string) => void;

function lbChecks(render: HostRender, o: LbObservation): Check[] {
  const out: Check[] = [];
  const add: AddCheck = (kind, target, ok, detail) =>
    out.push({ kind, cluster: render.cluster.name, target, ok, detail });
  serviceChecks(render, o, add);
  leftoverChecks(render, o, add);
  driftChecks(render, o.facts, add);
  probeChecks(render, o, add);
  return out;
}

async function operatorSiteChecks(cluster: Cluster, http: HttpClient, token: Secret | undefined): Promise<Check[]> {
  const jobs = cluster.sites.flatMap((site) =>
    site.vips.map(async (vip): Promise<Check> => {
      const r = await http(
        { ip: vip.ip, port: site.port, host: site.healthHost, path: site.healthPath, timeoutMs: 2000 },
        probeHeaders(token),
      );
      const upstream = header(r, 'x-hactl-upstream');
      const lb = header(r, 'x-hactl-lb');
      const mine = fromSite(upstream, site);
      const detail = r.status
        ? `${r.status} in ${r.ms} ms${lb ? ` via ${lb}` : ''}${upstream ? ` from ${upstream}` : ''}${mine ? '' : `: not a backend of ${site.name}`}`
        : `no answer: ${r.error}`;
      const target = `this machine → http://${site.healthHost}${site.healthPath} via ${vip.ip}:${site.port}`;
      return { kind: 'site', cluster: cluster.name, target, ok: is2xx(r) && mine, detail };
    }),
  );
  return Promise.all(jobs);
}

export function vipChecks(cluster: Cluster, facts: Map<string, HostFacts>): { checks: Check[]; vips: VipStatus[] } {
  const checks: Check[] = [];
  const vips: VipStatus[] = [];
  const unknown = cluster.lbs.filter((lb) => !facts.has(lb.name)).map((lb) => lb.name);
  for (const vip of cluster.vips) {
    const holders = cluster.lbs
      .filter((lb) => {
        const f = facts.get(lb.name);
        return f !== undefined && holds(f, vip.ip);
      })
      .map((lb) => lb.name);
    const v = vipVerdict(vip, holders, unknown);
    vips.push({
      cluster: cluster.name,
      name: vip.name,
      address: vip.cidr,
      master: vip.master,
      holders,
      health: v.health,
    });
    checks.push({ kind: 'vip', cluster: cluster.name, target: `${vip.name} ${vip.cidr}`, ok: v.ok, detail: v.detail });
  }
  return { checks, vips };
}

/** Configuration disagreements always; on split brain also firewall rules and a bounded advert watch. */
async function diagnoseCluster(
  cluster: Cluster,
  status: VipStatus[],
  clusterFacts: Map<string, HostFacts>,
  transport: (n: string) => Transport,
  watchAdverts: boolean,
): Promise<Finding[]> {
  const found: Finding[] = [];
  const split: Vip[] = [];
  for (const s of status) {
    const vip = cluster.vips.find((x) => x.name === s.name);
    if (!vip) continue;
    // Nodes that disagree on disk are a problem even before they split.
    found.push(...configFindings(cluster, vip, clusterFacts));
    if (s.holders.length >= 2) split.push(vip);
  }
  if (split.length === 0) return found;
  const firewall = await readFirewalls([...clusterFacts.keys()], transport);
  for (const vip of split) found.push(...firewallFindings(vip, firewall));
  // One bounded observation for every split VIP of the cluster (one stats dump covers all instances).
  if (watchAdverts) found.push(...(await observeAdverts(split, [...clusterFacts.keys()], transport)));
  return found;
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
  const tokens = new Map<string, Secret | undefined>();
  try {
    const hostJobs = renders.map(async (r) => {
      try {
        const t = await connecting.get(r.lb.name)!;
        transports.set(r.lb.name, t);
        const o = await observe(t, r, opts.timeoutMs ?? 15000);
        facts.set(r.lb.name, o.facts);
        const want = expected(r, o.facts);
        hostChecks.set(r.lb.name, lbChecks(want, o));
        tokens.set(r.lb.name, hostToken(want, o.facts));
      } catch (e) {
        const detail = (e as Error).message;
        hostChecks.set(r.lb.name, [{ kind: 'ssh', cluster: r.cluster.name, target: r.lb.name, ok: false, detail }]);
      }
    });
    await Promise.all(hostJobs);
    // Through the VIP with the token the load balancers have (else the one deploy would render).
    const tokenOf = (c: Cluster) => c.lbs.map((lb) => tokens.get(lb.name)).find(Boolean) ?? clusterProbeToken(c);
    const sites = await Promise.all(inv.clusters.map((c) => operatorSiteChecks(c, opts.http ?? httpGet, tokenOf(c))));
    const perCluster = await Promise.all(
      inv.clusters.map(async (cluster, i) => {
        // Inventory order, whichever host answered first.
        const own = [...cluster.lbs.flatMap((lb) => hostChecks.get(lb.name) ?? []), ...sites[i]];
        const v = vipChecks(cluster, facts);
        const mine = new Map([...facts].filter(([name]) => cluster.lbs.some((lb) => lb.name === name)));
        const transport = (n: string) => transports.get(n)!;
        const found = await diagnoseCluster(cluster, v.vips, mine, transport, opts.diagnose !== false);
        return { checks: [...own, ...v.checks], vips: v.vips, found };
      }),
    );
    const checks = perCluster.flatMap((x) => x.checks);
    return {
      ok: checks.every((c) => c.ok),
      checks,
      vips: perCluster.flatMap((x) => x.vips),
      findings: perCluster.flatMap((x) => x.found),
      facts,
      durationMs: Math.round(performance.now() - started),
    };
  } finally {
    await Promise.all([...connecting.values()].map((p) => p.then((t) => t.close()).catch(() => undefined)));
  }
}
