/**
 * hactl verify: is the front end healthy right now, and if not, why? One round trip per load
 * balancer (its facts, `nginx -t`, and HTTP from the LB to every backend and through every
 * VIP, started in the background of the same exec), plus HTTP from this machine through every
 * VIP, all in parallel. Split brain triggers a bounded diagnosis.
 */
import {
  procEventsProblem,
  procEventsSection,
  usesTrackProcess,
  type ProcEvents,
} from '../remote/sections/proc-events.js';
import type { Cluster, Inventory, Vip } from '../inventory/model.js';
import { drainedOn } from '../drain/state.js';
import { isNodeDrained } from '../remote/sections/drain.js';
import { createHash } from 'node:crypto';
import { fileChange, type FileChange } from '../plan/plan.js';
import { holds, readFacts, type HostFacts } from '../remote/facts.js';
import { httpProbesSection, type HttpProbe, type HttpProbeResult } from '../remote/sections/http-probes.js';
import { nginxTestSection, type NginxTest } from '../remote/sections/host.js';
import { advertsSection, type Heard } from '../remote/sections/discovery.js';
import { hookCommandsSection, type HookCommand } from '../remote/sections/hooks.js';
import { keepalivedDataSection, type InstanceState } from '../remote/sections/keepalived.js';
import type { Section } from '../remote/section.js';
import { leftoversSection, type FaultLeftovers } from '../remote/sections/faults.js';
import { describeLeftovers } from '../failover/leftovers.js';
import { clusterProbeToken, deployedProbeToken, probeHeaders } from '../render/probe-token.js';
import type { Secret } from '../inventory/secret.js';
import { versionsOf } from '../render/features.js';
import { renderHost, renderInventory, type HostRender, type RenderedFile } from '../render/render.js';
import { factsRequest } from '../run/host-ops.js';
import { nginxArgv, nginxSiteFile } from '../shell/nginx.js';
import type { LbConnector, Transport } from '../transport/transport.js';
import { header, httpGet, is2xx, type HttpClient } from '../util/http.js';
import { configFindings, firewallFindings, observeAdverts, readFirewalls, type Finding } from './diagnose.js';
import type { Check } from './post-deploy.js';
import { keyDrift, operatorTlsChecks, tlsTarget } from './tls-checks.js';
import { census, censusSeconds, describeCollision, type CensusReport } from './census.js';
import { nodeVrrpState, vipVerdict, type StateSource, type VipHealth } from './verdicts.js';

export interface VipStatus {
  cluster: string;
  name: string;
  address: string;
  master: string;
  holders: string[];
  health: VipHealth;
}

/** One node's VRRP state for one VIP (for monitoring output). */
export interface NodeStatus {
  cluster: string;
  node: string;
  vip: string;
  vrid: number;
  iface: string;
  address: string;
  keepalived: boolean;
  /** MASTER, BACKUP, FAULT, STOP, INIT; 'down' when keepalived is not running. */
  state: string;
  priority?: number;
  source?: StateSource;
  holdsVip: boolean;
}

export interface VerifyReport {
  ok: boolean;
  checks: Check[];
  vips: VipStatus[];
  /** Per reachable node and VIP: its VRRP state and priority. */
  nodes: NodeStatus[];
  findings: Finding[];
  /** With census: per cluster, what listening for VRRP adverts found. */
  census: CensusReport[];
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
  /** The time certificate expiry is measured from. Default: now. */
  now?: Date;
  /** Read each node's VRRP state and priority from keepalived itself (its data dump), not only the notify record. */
  nodeStates?: boolean;
  /** Listen for VRRP adverts from routers outside each cluster using its VRIDs (a few advert intervals). */
  census?: boolean;
}

/** What one load balancer told verify. */
interface LbObservation {
  facts: HostFacts;
  probes: HttpProbeResult[];
  nginxTest: NginxTest;
  hooks: HookCommand[];
  keepalived?: Map<string, InstanceState>;
  heard?: Heard;
  leftovers: FaultLeftovers;
  /** Asked only where the health check uses track_process. */
  procEvents?: ProcEvents;
}

/** The operator's hook commands of a cluster, each once. */
const hookCommands = (cluster: Cluster) => [
  ...new Set(cluster.vips.flatMap((v) => (v.notify?.command ? [v.notify.command] : []))),
];

const backendProbeId = (site: string, backend: string) => `b-${site}-${backend}`;
const vipProbeId = (site: string, vip: string) => `s-${site}-${vip}`;

function probesFor(cluster: Cluster): HttpProbe[] {
  const probes: HttpProbe[] = [];
  for (const site of cluster.sites) {
    const ask = { host: site.healthHost, path: site.healthPath };
    for (const b of site.backends)
      probes.push({ id: backendProbeId(site.name, b.name), ip: b.address, port: b.port, ...ask });
    for (const vip of site.vips)
      probes.push({
        id: vipProbeId(site.name, vip.name),
        ip: vip.ip,
        port: site.port,
        ...ask,
        ...(site.tls ? { https: true } : {}),
      });
  }
  return [...new Map(probes.map((p) => [p.id, p])).values()];
}

/** The site file: the one that carries the probe token. */
const nginxFile = (render: HostRender) => nginxSiteFile(render.lb.nginx, render.cluster.name);

/** Facts, probes, `nginx -t` and failover-test's leftovers, plus what was asked for (hooks, keepalived's state, the census): one exec. */
async function observe(t: Transport, render: HostRender, opts: VerifyOptions): Promise<LbObservation> {
  const { cluster } = render;
  const hooks = hookCommands(cluster);
  const listen = opts.census ? censusSeconds(cluster) : 0;
  const optional: Section<unknown>[] = [
    ...(hooks.length ? [hookCommandsSection(hooks)] : []),
    ...(opts.nodeStates ? [keepalivedDataSection] : []),
    ...(opts.census ? [advertsSection(listen)] : []),
    ...(usesTrackProcess(cluster.healthCheck.mode) ? [procEventsSection] : []),
  ];
  const extra = [
    httpProbesSection(probesFor(cluster), { tokenFile: nginxFile(render) }),
    nginxTestSection(nginxArgv(render.lb.nginx)),
    leftoversSection(),
    ...optional,
  ];
  const timeoutMs = (opts.timeoutMs ?? 15000) + listen * 1000;
  const { facts, extra: got } = await readFacts(t, factsRequest(render), extra, { step: 'verify', timeoutMs });
  const named = new Map(optional.map((sec, i) => [sec.name, got[3 + i]]));
  return {
    facts,
    probes: got[0] as HttpProbeResult[],
    nginxTest: got[1] as NginxTest,
    leftovers: got[2] as FaultLeftovers,
    hooks: (named.get('hook-commands') as HookCommand[] | undefined) ?? [],
    ...(named.has('keepalived-data') ? { keepalived: named.get('keepalived-data') as Map<string, InstanceState> } : {}),
    ...(named.has('adverts') ? { heard: named.get('adverts') as Heard } : {}),
    ...(named.has('proc-events') ? { procEvents: named.get('proc-events') as ProcEvents } : {}),
  };
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
  const again = renderHost(r.cluster, r.lb, versionsOf(facts.programs), {
    ...drainedOn(facts),
    ...(token ? { probeToken: token } : {}),
  });
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
  if (file.kind === 'key' && file.content === '') return keyDrift(file, f, render);
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
      const scheme = site.tls ? 'https' : 'http';
      add('site', `${lb} → ${scheme}://${site.healthHost}${site.healthPath} via ${vip.ip}:${site.port}`, ok, detail);
    }
  }
}

type AddCheck = (kind: string, target: string, ok: boolean, detail: string, warning?: boolean) => void;

/**
 * The operator's hooks can run on this node: each command is there and executable (a missing
 * one means alerts or a cloud IP move silently never happen), and curl is there for a webhook.
 * A command others can change is flagged: keepalived's notify script runs it as root.
 */
function hookChecks(render: HostRender, o: LbObservation, add: AddCheck): void {
  const lb = render.lb.name;
  for (const h of o.hooks) {
    const why = !h.exists ? 'does not exist' : !h.executable ? `is not an executable file (mode ${h.mode})` : '';
    if (why) {
      add('hook', `${lb} ${h.path}`, false, `${why}: the state-change hook cannot run; install it on every node`);
      continue;
    }
    const loose = h.owner !== 'root' || (h.mode !== undefined && (parseInt(h.mode, 8) & 0o022) !== 0);
    const detail = loose
      ? `executable, but owned by ${h.owner} with mode ${h.mode}: keepalived's notify runs it as root, so only root should be able to change it`
      : `executable (${h.owner}, ${h.mode})`;
    add('hook', `${lb} ${h.path}`, true, detail, loose);
  }
  if (render.cluster.vips.some((v) => v.notify?.webhook))
    add(
      'hook',
      `${lb} webhook`,
      o.facts.programs.curl !== undefined,
      o.facts.programs.curl
        ? `curl at ${o.facts.programs.curl.path}`
        : 'curl is not installed: the webhook cannot be called',
    );
}

function lbChecks(render: HostRender, o: LbObservation): Check[] {
  const out: Check[] = [];
  const add: AddCheck = (kind, target, ok, detail, warning) =>
    out.push({ kind, cluster: render.cluster.name, target, ok, detail, ...(warning ? { warning: true } : {}) });
  serviceChecks(render, o, add);
  if (o.procEvents) {
    const problem = procEventsProblem(render.lb.name, render.cluster.healthCheck.mode, o.procEvents);
    add(
      'health-check',
      render.lb.name,
      problem === undefined,
      problem ??
        (o.procEvents === 'yes'
          ? "track_process can hear nginx: the kernel's proc connector answers"
          : 'cannot tell whether track_process hears nginx (no python3 on the host)'),
      o.procEvents === 'unknown',
    );
  }
  leftoverChecks(render, o, add);
  driftChecks(render, o.facts, add);
  hookChecks(render, o, add);
  probeChecks(render, o, add);
  return out;
}

/** Every reachable node's VRRP state per VIP, from the best source there is (verdicts.vrrpState). */
function nodeStatuses(cluster: Cluster, observed: Map<string, LbObservation>): NodeStatus[] {
  return cluster.lbs.flatMap((lb) => {
    const o = observed.get(lb.name);
    if (!o) return [];
    return cluster.vips.map((vip) => ({
      cluster: cluster.name,
      node: lb.name,
      vip: vip.name,
      vrid: vip.vrid,
      iface: lb.interface,
      address: vip.cidr,
      keepalived: o.facts.running.keepalived,
      ...nodeVrrpState(vip, o.facts, o.keepalived),
    }));
  });
}

/** The census as checks: a VRID in use by a router outside the cluster fails, as does not being able to listen. */
function censusChecks(report: CensusReport): Check[] {
  const c = report.cluster;
  const checks: Check[] = report.collisions.map((x) => ({
    kind: 'census',
    cluster: c,
    target: `VRID ${x.vrid} (${x.vip})`,
    ok: false,
    detail: `${describeCollision(c, x)}: the two would fight over the VIP (split brain); give ${x.vip} a VRID nobody on the segment uses`,
  }));
  for (const p of report.problems) checks.push({ kind: 'census', cluster: c, target: 'listen', ok: false, detail: p });
  if (checks.length === 0) {
    const secs = report.listened.map((l) => `${l.lb} ${l.seconds}s`).join(', ');
    const others = report.othersInUse.map((o) => `${o.vrid} from ${o.from}`).join(', ');
    const detail = `no router outside the cluster advertises its VRIDs (listened: ${secs})${others ? `; other VRIDs in use on the segment: ${others}` : ''}`;
    checks.push({ kind: 'census', cluster: c, target: 'VRIDs', ok: true, detail });
  }
  return checks;
}

async function operatorSiteChecks(cluster: Cluster, http: HttpClient, token: Secret | undefined): Promise<Check[]> {
  const jobs = cluster.sites.flatMap((site) =>
    site.vips.map(async (vip): Promise<Check> => {
      const r = await http(
        {
          ip: vip.ip,
          port: site.port,
          host: site.healthHost,
          path: site.healthPath,
          timeoutMs: 2000,
          tls: tlsTarget(site, site.healthHost),
        },
        probeHeaders(token),
      );
      const upstream = header(r, 'x-hactl-upstream');
      const lb = header(r, 'x-hactl-lb');
      const mine = fromSite(upstream, site);
      const detail = r.status
        ? `${r.status} in ${r.ms} ms${lb ? ` via ${lb}` : ''}${upstream ? ` from ${upstream}` : ''}${mine ? '' : `: not a backend of ${site.name}`}`
        : `no answer: ${r.error}`;
      const target = `this machine → ${site.tls ? 'https' : 'http'}://${site.healthHost}${site.healthPath} via ${vip.ip}:${site.port}`;
      return { kind: 'site', cluster: cluster.name, target, ok: is2xx(r) && mine, detail };
    }),
  );
  return Promise.all(jobs);
}

/** Each node's keepalived and nginx versions; different ones are allowed (a rolling upgrade) but flagged. */
export function versionChecks(cluster: Cluster, facts: Map<string, HostFacts>): Check[] {
  return (['keepalived', 'nginx'] as const).map((prog) => {
    const seen = cluster.lbs.flatMap((lb) => {
      const v = facts.get(lb.name)?.programs[prog]?.version;
      return v ? [`${lb.name} ${v}`] : [];
    });
    const distinct = new Set(seen.map((x) => x.split(' ')[1]));
    const differ = distinct.size > 1;
    const detail = seen.length
      ? `${seen.join(', ')}${differ ? ': versions differ (fine during an upgrade; finish it so every node behaves alike)' : ''}`
      : 'not known (no node answered)';
    return {
      kind: 'versions',
      cluster: cluster.name,
      target: prog,
      ok: true,
      detail,
      ...(differ ? { warning: true } : {}),
    };
  });
}

/** The cluster's load balancers whose facts say `hactl drain` took them out. */
export function drainedNodes(cluster: Cluster, facts: Map<string, Pick<HostFacts, 'drain'>>): string[] {
  return cluster.lbs.filter((lb) => isNodeDrained(facts.get(lb.name)?.drain)).map((lb) => lb.name);
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
    const v = vipVerdict(vip, holders, unknown, drainedNodes(cluster, facts));
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
  const observed = new Map<string, LbObservation>();
  const hostChecks = new Map<string, Check[]>();
  const tokens = new Map<string, Secret | undefined>();
  try {
    const hostJobs = renders.map(async (r) => {
      try {
        const t = await connecting.get(r.lb.name)!;
        transports.set(r.lb.name, t);
        const o = await observe(t, r, opts);
        facts.set(r.lb.name, o.facts);
        observed.set(r.lb.name, o);
        // Compared with what deploy would render for the versions this host runs, with the host's probe token.
        const want = expected(r, o.facts);
        hostChecks.set(r.lb.name, lbChecks(want, o));
        tokens.set(r.lb.name, hostToken(want, o.facts));
      } catch (e) {
        const detail = (e as Error).message;
        hostChecks.set(r.lb.name, [{ kind: 'ssh', cluster: r.cluster.name, target: r.lb.name, ok: false, detail }]);
      }
    });
    const http = opts.http ?? httpGet;
    await Promise.all(hostJobs);
    // Through the VIP with the token the load balancers have (else the one deploy would render),
    // so each answer names the load balancer that served it.
    const tokenOf = (c: Cluster) => c.lbs.map((lb) => tokens.get(lb.name)).find(Boolean) ?? clusterProbeToken(c);
    const now = opts.now ?? new Date();
    const [plain, tls] = await Promise.all([
      Promise.all(inv.clusters.map((c) => operatorSiteChecks(c, http, tokenOf(c)))),
      Promise.all(inv.clusters.map((c) => operatorTlsChecks(c, http, now, probeHeaders(tokenOf(c))))),
    ]);
    const sites = plain.map((p, i) => [...p, ...tls[i]]);
    const perCluster = await Promise.all(
      inv.clusters.map(async (cluster, i) => {
        // Inventory order, whichever host answered first.
        const own = [...cluster.lbs.flatMap((lb) => hostChecks.get(lb.name) ?? []), ...sites[i]];
        const v = vipChecks(cluster, facts);
        const mine = new Map([...facts].filter(([name]) => cluster.lbs.some((lb) => lb.name === name)));
        const transport = (n: string) => transports.get(n)!;
        const found = await diagnoseCluster(cluster, v.vips, mine, transport, opts.diagnose !== false);
        const heard = new Map(
          [...observed].flatMap(([n, o]) => (o.heard && mine.has(n) ? [[n, o.heard] as const] : [])),
        );
        const cen = opts.census ? [census(cluster, heard, (n) => facts.get(n))] : [];
        const checks = [...own, ...v.checks, ...versionChecks(cluster, mine), ...cen.flatMap(censusChecks)];
        return { checks, vips: v.vips, found, nodes: nodeStatuses(cluster, observed), census: cen };
      }),
    );
    const checks = perCluster.flatMap((x) => x.checks);
    return {
      ok: checks.every((c) => c.ok),
      checks,
      vips: perCluster.flatMap((x) => x.vips),
      nodes: perCluster.flatMap((x) => x.nodes),
      findings: perCluster.flatMap((x) => x.found),
      census: perCluster.flatMap((x) => x.census),
      facts,
      durationMs: Math.round(performance.now() - started),
    };
  } finally {
    await Promise.all([...connecting.values()].map((p) => p.then((t) => t.close()).catch(() => undefined)));
  }
}
