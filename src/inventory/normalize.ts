/** Schema-valid document → model: applies defaults and derives priorities and states. */
import type {
  ClusterDoc,
  InventoryDoc,
  KeepalivedDoc,
  NginxLayoutDoc,
  NotifyDoc,
  SiteDoc,
  SshDoc,
  TrackInterfaceDoc,
  VipAddressDoc,
  VipDoc,
} from './schema.js';
import {
  DEFAULTS,
  type Backend,
  type Cluster,
  type HealthCheck,
  type Inventory,
  type KeepalivedGlobals,
  type NginxLayout,
  type Notify,
  type Site,
  type TrackedInterface,
  type VipAddress,
  type Vip,
  type VipNode,
  VRRP_PROFILES,
} from './model.js';
import { Secret } from './secret.js';
import { ipFamily, parseCidr } from '../util/ip.js';

type VrrpSettings = Pick<VipDoc, 'advert_int' | 'vrrp_version' | 'auth' | 'unicast' | 'preempt' | 'preempt_delay'>;

/** VIP settings with the cluster's vrrp: defaults filled in. */
export function vipSettings(
  cluster: ClusterDoc,
  vip: VipDoc,
): Required<Pick<VrrpSettings, 'advert_int' | 'vrrp_version' | 'unicast' | 'preempt'>> & VrrpSettings {
  const d = cluster.vrrp ?? {};
  const p = d.profile ? VRRP_PROFILES[d.profile] : undefined;
  return {
    advert_int: vip.advert_int ?? d.advert_int ?? p?.advertInt ?? DEFAULTS.advertInt,
    vrrp_version: vip.vrrp_version ?? d.vrrp_version ?? p?.vrrpVersion ?? DEFAULTS.vrrpVersion,
    auth: vip.auth ?? d.auth,
    unicast: vip.unicast ?? d.unicast ?? false,
    preempt: vip.preempt ?? d.preempt ?? true,
    preempt_delay: vip.preempt_delay ?? d.preempt_delay,
  };
}

/** Priorities: explicit ones win; otherwise the master 150, the others 100, 90, 80… in list order. */
export function derivePriorities(cluster: ClusterDoc, vip: VipDoc): Map<string, number> {
  const out = new Map<string, number>();
  let next = DEFAULTS.backupPriority;
  for (const lb of cluster.load_balancers) {
    const explicit = vip.priorities?.[lb.name];
    if (explicit !== undefined) out.set(lb.name, explicit);
    else if (lb.name === vip.master) out.set(lb.name, DEFAULTS.masterPriority);
    else {
      out.set(lb.name, Math.max(1, next));
      next -= DEFAULTS.priorityStep;
    }
  }
  return out;
}

const SUB_SECOND_PROBE_TIMEOUT = 0.2;

export function healthCheckOf(cluster: ClusterDoc): HealthCheck {
  const h = cluster.health_check ?? {};
  const profile = cluster.vrrp?.profile;
  const d = { ...DEFAULTS.healthCheck, ...(profile ? VRRP_PROFILES[profile].healthCheck : {}) };
  return {
    mode: h.mode ?? d.mode,
    interval: h.interval ?? d.interval,
    // A sub-second check times out each probe: keepalived's default second would leave room for one per run.
    timeout: h.timeout ?? ((h.interval ?? d.interval) < 1 ? Math.min(d.timeout, SUB_SECOND_PROBE_TIMEOUT) : d.timeout),
    fall: h.fall ?? d.fall,
    rise: h.rise ?? d.rise,
    weight: h.weight ?? d.weight,
    aliveInterval: h.alive_interval ?? (aliveApplies(h, d) ? d.aliveInterval : 0),
  };
}

/** The alive check goes with the HTTP script (mode script or both) in FAULT mode (weight 0), when that script probes once a second or less often. */
function aliveApplies(h: NonNullable<ClusterDoc['health_check']>, d: HealthCheck): boolean {
  const mode = h.mode ?? d.mode;
  return (mode === 'script' || mode === 'both') && (h.weight ?? d.weight) === 0 && (h.interval ?? d.interval) >= 1;
}

/**
 * The Host header of a site's checks: health_host, else the first server name that is a plain
 * name (*.example.com → www.example.com, .example.com → example.com). $hostname, regular
 * expressions and www.example.* name no one host; lint refuses a site with nothing else.
 */
export function healthHostOf(s: Pick<SiteDoc, 'health_host' | 'server_names'>): string | undefined {
  if (s.health_host !== undefined) return s.health_host;
  for (const name of s.server_names) {
    if (name.startsWith('~') || name.startsWith('$') || name.endsWith('.*')) continue;
    return name.replace(/^\*\./, 'www.').replace(/^\./, '');
  }
  return undefined;
}

export function vrrpAddressOf(lb: { address: string; vrrp_address?: string }): string | undefined {
  const raw = lb.vrrp_address ?? lb.address;
  const ip = raw.split('/')[0];
  return ipFamily(ip) ? ip : undefined;
}

export function mergeSsh(defaults: SshDoc | undefined, own: SshDoc | undefined): SshDoc {
  return { ...(defaults ?? {}), ...(own ?? {}) };
}

/** The VIP's hooks: its own notify: fields over the cluster's; none when neither a command nor a webhook is set. */
export function notifyOf(cluster: NotifyDoc | undefined, own: NotifyDoc | undefined): Notify | undefined {
  const d = { ...(cluster ?? {}), ...(own ?? {}) };
  if (!d.command && !d.webhook) return undefined;
  return {
    ...(d.command ? { command: d.command } : {}),
    ...(d.webhook ? { webhook: new Secret(d.webhook) } : {}),
    timeoutS: d.timeout ?? DEFAULTS.notifyTimeoutS,
  };
}

/** The VIP's tracked links: the cluster's, then its own (an entry for the same interface replaces the cluster's). */
export function trackDocsOf(cluster: ClusterDoc, vip: VipDoc): TrackInterfaceDoc[] {
  const own = vip.track_interface ?? [];
  const inherited = (cluster.track_interface ?? []).filter((t) => !own.some((o) => o.interface === t.interface));
  return [...inherited, ...own];
}

export function trackOf(t: TrackInterfaceDoc): TrackedInterface {
  const delayed = t.down_delay !== undefined || t.up_delay !== undefined;
  return {
    interface: t.interface,
    weight: t.weight ?? 0,
    ...(delayed ? { downDelay: t.down_delay ?? 0, upDelay: t.up_delay ?? t.down_delay ?? 0 } : {}),
  };
}

export function keepalivedOf(k: KeepalivedDoc | undefined): KeepalivedGlobals {
  const d = DEFAULTS.keepalived;
  return {
    noSwap: k?.vrrp_no_swap ?? d.noSwap,
    ...(k?.vrrp_startup_delay !== undefined ? { startupDelay: k.vrrp_startup_delay } : {}),
    ...(k?.max_auto_priority !== undefined ? { maxAutoPriority: k.max_auto_priority } : {}),
    ...(k?.garp_master_delay !== undefined ? { garpMasterDelay: k.garp_master_delay } : {}),
    ...(k?.garp_master_repeat !== undefined ? { garpMasterRepeat: k.garp_master_repeat } : {}),
    ...(k?.garp_interval !== undefined ? { garpInterval: k.garp_interval } : {}),
  };
}

function vipAddressOf(a: VipAddressDoc): VipAddress {
  const c = parseCidr(a.address)!;
  return {
    ip: c.ip,
    prefix: c.prefix,
    family: c.family,
    cidr: `${c.ip}/${c.prefix}`,
    ...(a.dev ? { dev: a.dev } : {}),
    ...(a.label ? { label: a.label } : {}),
  };
}

/** Every address of a VIP: its own, then addresses, then excluded_addresses. */
export function allAddresses(
  vip: Pick<Vip, 'ip' | 'family' | 'addresses' | 'excluded'>,
): { ip: string; family: 4 | 6 }[] {
  return [{ ip: vip.ip, family: vip.family }, ...(vip.addresses ?? []), ...(vip.excluded ?? [])];
}

function buildVip(cluster: ClusterDoc, vip: VipDoc, env: NodeJS.ProcessEnv): Vip {
  const s = vipSettings(cluster, vip);
  const cidr = parseCidr(vip.address)!;
  const priorities = derivePriorities(cluster, vip);
  const masterState = s.preempt ? (vip.initial_state ?? 'MASTER') : 'BACKUP';
  const nodes: VipNode[] = cluster.load_balancers.map((lb) => ({
    lb: lb.name,
    priority: priorities.get(lb.name)!,
    state: lb.name === vip.master ? masterState : 'BACKUP',
  }));
  const pass = s.auth ? (s.auth.pass ?? env[s.auth.pass_env ?? ''] ?? '') : undefined;
  const notify = notifyOf(cluster.notify, vip.notify);
  const tracks = trackDocsOf(cluster, vip).map(trackOf);
  return {
    name: vip.name,
    ip: cidr.ip,
    prefix: cidr.prefix,
    family: cidr.family,
    cidr: `${cidr.ip}/${cidr.prefix}`,
    vrid: vip.vrid,
    master: vip.master,
    label: vip.label,
    advertInt: s.advert_int,
    vrrpVersion: s.vrrp_version,
    auth: s.auth && pass !== undefined ? { type: 'PASS', pass: new Secret(pass) } : undefined,
    unicast: s.unicast,
    preempt: s.preempt,
    preemptDelay: s.preempt_delay,
    nodes,
    ...(notify ? { notify } : {}),
    ...(tracks.length > 0 ? { trackInterfaces: tracks } : {}),
    ...(vip.dev ? { dev: vip.dev } : {}),
    ...(vip.addresses?.length ? { addresses: vip.addresses.map(vipAddressOf) } : {}),
    ...(vip.excluded_addresses?.length ? { excluded: vip.excluded_addresses.map(vipAddressOf) } : {}),
  };
}

/** nginx listens on VIPs the node may not hold yet: non-local bind, per address family in use. */
function sysctlOf(vips: Vip[]): Record<string, string> {
  return {
    'net.ipv4.ip_nonlocal_bind': '1',
    ...(vips.some((v) => allAddresses(v).some((a) => a.family === 6)) ? { 'net.ipv6.ip_nonlocal_bind': '1' } : {}),
  };
}

function buildBackend(b: ClusterDoc['backends'][number]): Backend {
  return {
    name: b.name,
    address: b.address,
    port: b.port ?? DEFAULTS.backendPort,
    weight: b.weight ?? 1,
    maxFails: b.max_fails,
    failTimeout: b.fail_timeout,
    backup: b.backup ?? false,
  };
}

/** Names resolve to the cluster's own objects: lint has already checked that each exists. */
function pick<T extends { name: string }>(all: T[], names: string[]): T[] {
  return names.flatMap((n) => all.filter((x) => x.name === n));
}

function buildSite(s: ClusterDoc['sites'][number], vips: Vip[], backends: Backend[]): Site {
  return {
    name: s.name,
    serverNames: s.server_names,
    vips: pick(vips, s.vips),
    port: s.port ?? (s.tls ? DEFAULTS.tlsPort : DEFAULTS.sitePort),
    backends: pick(backends, s.backends),
    upstream: s.upstream ?? s.name,
    healthPath: s.health_path ?? '/',
    healthHost: healthHostOf(s) ?? s.server_names[0],
    proxyHeaders: s.proxy_headers ? Object.entries(s.proxy_headers) : DEFAULTS.proxyHeaders,
    identify: s.identify ?? true,
    extra: s.extra ?? [],
  };
}

/** The layout of nginx on one load balancer: its own settings over the cluster's, defaults derived. */
export function nginxLayoutOf(cluster: NginxLayoutDoc | undefined, own: NginxLayoutDoc | undefined): NginxLayout {
  const d = { ...(cluster ?? {}), ...(own ?? {}) };
  if (!d.binary) return { kind: 'package', includeDir: d.include_dir ?? '/etc/nginx/conf.d' };
  const prefix = d.prefix ?? d.binary.split('/').slice(0, -2).join('/');
  const confDir = d.conf_dir ?? `${prefix}/conf`;
  return {
    kind: 'prefix',
    binary: d.binary,
    prefix,
    conf: d.conf ?? `${confDir}/nginx.conf`,
    includeDir: d.include_dir ?? `${confDir}/conf.d`,
    pidFile: d.pid_file ?? `${prefix}/logs/nginx.pid`,
  };
}

function buildCluster(doc: InventoryDoc, c: ClusterDoc, env: NodeJS.ProcessEnv): Cluster {
  const vips = c.vips.map((v) => buildVip(c, v, env));
  const backends = c.backends.map(buildBackend);
  return {
    name: c.name,
    interface: c.interface,
    lbs: c.load_balancers.map((lb) => ({
      name: lb.name,
      address: lb.address,
      vrrpAddress: vrrpAddressOf(lb),
      interface: lb.interface ?? c.interface,
      ssh: mergeSsh(doc.ssh, lb.ssh),
      nginx: nginxLayoutOf(c.nginx, lb.nginx),
    })),
    vips,
    healthCheck: healthCheckOf(c),
    nginxStatusPort: c.nginx_status_port ?? DEFAULTS.nginxStatusPort,
    backends,
    sites: c.sites.map((s) => buildSite(s, vips, backends)),
    sysctl: sysctlOf(vips),
    keepalived: keepalivedOf(c.keepalived),
    ...(c.sync_groups?.length ? { syncGroups: c.sync_groups.map((g) => ({ name: g.name, vips: g.vips })) } : {}),
  };
}

export function normalize(file: string, doc: InventoryDoc, env: NodeJS.ProcessEnv = process.env): Inventory {
  return {
    file,
    clusters: doc.clusters.map((c) => buildCluster(doc, c, env)),
    releases: { keep: doc.releases?.keep ?? DEFAULTS.keepReleases },
  };
}
