/**
 * Pure rendering: validated inventory → the files each load balancer needs. Template contexts
 * set every key explicitly (null/false for absent options) because templates are strict.
 */
import { createHash } from 'node:crypto';
import {
  DEFAULTS,
  type Cluster,
  type HealthCheck,
  type Inventory,
  type LoadBalancer,
  type TrackedInterface,
} from '../inventory/model.js';
import type { Secret } from '../inventory/secret.js';
import { HOST_PATHS } from '../remote/paths.js';
import { renderTemplate } from './engine.js';
import { features, type Versions } from './features.js';
import { allAddresses } from '../inventory/normalize.js';
import { aliveRuns, checkRuns } from '../inventory/vrrp-math.js';
import { nginxSiteFile } from '../shell/nginx.js';
import { listenParams, redirectContexts, tlsFileSpecs, tlsSecrets, tlsServerContext } from './tls.js';
import { quote } from '../shell/quote.js';
import { clusterProbeToken, probeVariables, TOKEN_MARK } from './probe-token.js';

export type Service = 'keepalived' | 'nginx' | 'sysctl';

export interface RenderedFile {
  path: string;
  mode: string;
  owner: string;
  group: string;
  content: string;
  /** Which service reloads when this file changes. */
  service: Service;
  sha256: string;
  /** The mode its directory must have (a TLS key's directory: 0700). */
  dirMode?: string;
  /** A certificate or a private key: shown in plans by what it is, never as a text diff. */
  kind?: 'certificate' | 'key';
}

export interface HostRender {
  cluster: Cluster;
  lb: LoadBalancer;
  files: RenderedFile[];
  /** Kernel settings this host needs now and after a reboot (the sysctl file persists them). */
  sysctl: Record<string, string>;
  /** Secrets present in the files, for masking in any output. */
  secrets: Secret[];
  /** The program versions the files were rendered for (empty: not known, the oldest supported). */
  versions: Versions;
}

/** Where the rendered files go on each host (one table with the rest: remote/paths.ts). */
export const PATHS = HOST_PATHS;

export const CHECK_SCRIPT_NAME = 'hactl_check_nginx';
export const ALIVE_SCRIPT_NAME = 'hactl_nginx_alive';
export const TRACK_PROCESS_NAME = 'hactl_nginx_process';
export const DRAIN_TRACK_NAME = 'hactl_drain';

function file(path: string, mode: string, service: Service, content: string): RenderedFile {
  return {
    path,
    mode,
    owner: 'root',
    group: 'root',
    content,
    service,
    sha256: createHash('sha256').update(content).digest('hex'),
  };
}

/** The in-run probing of a sub-second check (vrrp-math checkRuns), in the script's centiseconds. */
function checkLoopContext(hc: HealthCheck) {
  const loop = checkRuns(hc).loop;
  if (!loop) return null;
  return {
    every: hc.interval,
    budget_cs: loop.budgetCs,
    reserve_cs: loop.reserveCs,
    first_run: PATHS.checkFirstRun,
  };
}

/** The alive check's vrrp_script (health_check.alive_interval): fall 1, FAULT; none when off. */
function aliveScripts(hc: HealthCheck) {
  const runs = aliveRuns(hc);
  if (!runs) return [];
  return [
    {
      name: ALIVE_SCRIPT_NAME,
      path: PATHS.aliveScript,
      interval: runs.interval,
      timeout: runs.timeout,
      fall: 1,
      rise: hc.rise,
      weight: 0,
    },
  ];
}

/** global_defs lines from the cluster's keepalived: settings, for what this version understands. */
function globalsContext(cluster: Cluster, v: Versions) {
  const k = cluster.keepalived ?? DEFAULTS.keepalived;
  const f = features(v);
  const line = (key: string, value: number | undefined) => (value === undefined ? [] : [`${key} ${value}`]);
  return [
    ...(k.noSwap ? ['vrrp_no_swap'] : []),
    ...(f.keepalivedStartupDelay ? line('vrrp_startup_delay', k.startupDelay) : []),
    ...(f.keepalivedMaxAutoPriority ? line('max_auto_priority', k.maxAutoPriority) : []),
    ...line('vrrp_garp_master_delay', k.garpMasterDelay),
    ...line('vrrp_garp_master_repeat', k.garpMasterRepeat),
    ...line('vrrp_garp_interval', k.garpInterval),
  ];
}

/**
 * interface_up_down_delays, one line per tracked link with delays (lint has checked that every
 * VIP gives a link the same ones); null when there are none, `unsupported` when this keepalived
 * is older than 2.2.3 and the links are tracked without debouncing.
 */
function upDownDelaysContext(cluster: Cluster, v: Versions) {
  const lines = new Map<string, string>();
  for (const t of cluster.vips.flatMap((vip) => vip.trackInterfaces ?? []))
    if (t.downDelay !== undefined) lines.set(t.interface, `${t.interface} ${t.downDelay} ${t.upDelay ?? t.downDelay}`);
  if (lines.size === 0) return null;
  const supported = features(v).keepalivedUpDownDelays;
  return { lines: supported ? [...lines.values()] : [], unsupported: supported ? null : (v.keepalived ?? 'unknown') };
}

/** One virtual_ipaddress line: `<cidr> dev <dev> [label <label>]`, dev defaulting to the VIP's (then the VRRP interface). */
const addressLine = (a: { cidr: string; dev?: string; label?: string }, iface: string) =>
  `${a.cidr} dev ${a.dev ?? iface}${a.label ? ` label ${a.label}` : ''}`;

const trackLine = (t: TrackedInterface) => (t.weight === 0 ? t.interface : `${t.interface} weight ${t.weight}`);

function keepalivedContext(cluster: Cluster, lb: LoadBalancer, v: Versions) {
  const hc = cluster.healthCheck;
  const useScript = hc.mode === 'script' || hc.mode === 'both';
  const useProcess = hc.mode === 'process' || hc.mode === 'both';
  return {
    cluster: cluster.name,
    router_id: lb.name,
    reload_check: features(v).keepalivedReloadCheck ? HOST_PATHS.keepalivedReloadCheck : null,
    globals: globalsContext(cluster, v),
    sync_groups: cluster.syncGroups ?? [],
    up_down_delays: upDownDelaysContext(cluster, v),
    scripts: useScript
      ? [
          {
            name: CHECK_SCRIPT_NAME,
            path: PATHS.checkScript,
            interval: checkRuns(hc).interval,
            timeout: checkRuns(hc).timeout,
            fall: hc.fall,
            rise: hc.rise,
            weight: hc.weight,
          },
          ...aliveScripts(hc),
        ]
      : [],
    processes: useProcess ? [{ name: TRACK_PROCESS_NAME, process: 'nginx', weight: hc.weight }] : [],
    drain: features(v).keepalivedTrackFile ? { name: DRAIN_TRACK_NAME, file: HOST_PATHS.drainFile } : null,
    instances: cluster.vips.map((vip) => {
      const node = vip.nodes.find((n) => n.lb === lb.name)!;
      const peers = cluster.lbs
        .filter((other) => other.name !== lb.name)
        .map((other) => other.vrrpAddress ?? other.address);
      return {
        name: vip.name,
        state: node.state,
        interface: lb.interface,
        vrid: vip.vrid,
        priority: node.priority,
        advert_int: vip.advertInt,
        version3: vip.vrrpVersion === 3,
        nopreempt: !vip.preempt,
        preempt_delay: vip.preemptDelay ?? null,
        auth: vip.auth ? { type: vip.auth.type, pass: vip.auth.pass.reveal() } : null,
        unicast: vip.unicast ? { src: lb.vrrpAddress ?? lb.address, peers } : null,
        address: vip.cidr,
        label: vip.label ?? null,
        dev: vip.dev ?? lb.interface,
        // A VIP's other addresses go where the VIP goes unless they name their own dev (lint reads them so too).
        more_addresses: (vip.addresses ?? []).map((a) => addressLine(a, vip.dev ?? lb.interface)),
        excluded: (vip.excluded ?? []).map((a) => addressLine(a, vip.dev ?? lb.interface)),
        track_scripts: useScript ? [CHECK_SCRIPT_NAME, ...aliveScripts(hc).map((a) => a.name)] : [],
        track_processes: useProcess ? [TRACK_PROCESS_NAME] : [],
        track_interfaces: (vip.trackInterfaces ?? []).map(trackLine),
        // keepalived ignores tracking weights in a sync group: there the drain file, when not 0, is FAULT.
        synced: (cluster.syncGroups ?? []).some((g) => g.vips.includes(vip.name)),
        notify: PATHS.notifyScript,
      };
    }),
  };
}

function uniqueBy<T>(items: T[], key: (t: T) => string): T[] {
  const seen = new Set<string>();
  return items.filter((it) => (seen.has(key(it)) ? false : (seen.add(key(it)), true)));
}

function listenAddress(ip: string, family: 4 | 6, port: number): string {
  return family === 6 ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/** The map that shows who answered only to token holders; null (no hactl header at all) without a token. */
function probeContext(cluster: Cluster, token: Secret | undefined) {
  if (!token) return null;
  const v = probeVariables(cluster.name);
  return { token: token.reveal(), mark: TOKEN_MARK, lb_var: v.lb, upstream_var: v.upstream };
}

function nginxContext(
  cluster: Cluster,
  lb: LoadBalancer,
  v: Versions,
  token: Secret | undefined,
  drained: ReadonlySet<string>,
) {
  return {
    cluster: cluster.name,
    lb: lb.name,
    status_port: cluster.nginxStatusPort,
    probe: probeContext(cluster, token),
    upstreams: uniqueBy(cluster.sites, (s) => s.upstream).map((site) => ({
      name: site.upstream,
      servers: site.backends.map((b) => ({
        address: b.address.includes(':') ? `[${b.address}]` : b.address,
        port: b.port,
        weight: b.weight !== 1 ? b.weight : null,
        max_fails: b.maxFails ?? null,
        fail_timeout: b.failTimeout ?? null,
        backup: b.backup,
        down: drained.has(b.name),
      })),
    })),
    servers: cluster.sites.map((site) => ({
      listens: site.vips.flatMap((vip) =>
        allAddresses(vip).map((a) => listenAddress(a.ip, a.family, site.port) + listenParams(site, v)),
      ),
      server_names: site.serverNames.join(' '),
      identify: site.identify && token !== undefined,
      extra: site.extra,
      upstream: site.upstream,
      proxy_headers: site.proxyHeaders.map(([name, value]) => ({ name, value })),
      tls: tlsServerContext(site, v),
    })),
    // Like the sites, a redirect names the load balancer only to requests carrying the token.
    redirects: redirectContexts(cluster, listenAddress).map((r) => ({
      ...r,
      identify: r.identify && token !== undefined,
    })),
  };
}

/**
 * The notify script's context: per VIP with hooks, its address and the hooks as shell words
 * (quoted here, the one quoting function, so the template splices them as they are).
 */
function notifyContext(cluster: Cluster, lb: LoadBalancer) {
  return {
    state_dir: HOST_PATHS.vrrpStateDir,
    cluster: quote(cluster.name),
    node: quote(lb.name),
    hooks: cluster.vips.flatMap((vip) =>
      vip.notify
        ? [
            {
              name: vip.name,
              address: quote(vip.cidr),
              command: quote(vip.notify.command ?? ''),
              webhook: quote(vip.notify.webhook?.reveal() ?? ''),
              timeout: vip.notify.timeoutS,
            },
          ]
        : [],
    ),
  };
}

/** Root only when a webhook (which may carry a token) is written into it; keepalived runs it as root either way. */
const notifyMode = (cluster: Cluster) => (cluster.vips.some((v) => v.notify?.webhook) ? '0700' : '0755');

export interface RenderOptions {
  /** The probe token to render instead of the derived one (verify: the one the host already has). */
  probeToken?: Secret;
  /** Backends drained on this host (`hactl drain --backend`): rendered `down`, so deploy keeps them drained. */
  drainedBackends?: ReadonlySet<string>;
}

export function renderHost(
  cluster: Cluster,
  lb: LoadBalancer,
  versions: Versions = {},
  opts: RenderOptions = {},
): HostRender {
  const token = opts.probeToken ?? clusterProbeToken(cluster);
  const hc = cluster.healthCheck;
  const files: RenderedFile[] = [
    file(
      PATHS.keepalivedConf,
      '0600',
      'keepalived',
      renderTemplate('keepalived.conf.hbs', keepalivedContext(cluster, lb, versions)),
    ),
    file(
      PATHS.notifyScript,
      notifyMode(cluster),
      'keepalived',
      renderTemplate('notify.sh.hbs', notifyContext(cluster, lb)),
    ),
  ];
  if (hc.mode === 'script' || hc.mode === 'both')
    files.push(
      file(
        PATHS.checkScript,
        '0755',
        'keepalived',
        renderTemplate('check-nginx.sh.hbs', {
          timeout: hc.timeout,
          status_port: cluster.nginxStatusPort,
          loop: checkLoopContext(hc),
        }),
      ),
    );
  const alive = aliveRuns(hc)?.loop;
  if ((hc.mode === 'script' || hc.mode === 'both') && alive)
    files.push(
      file(
        PATHS.aliveScript,
        '0755',
        'keepalived',
        renderTemplate('nginx-alive.sh.hbs', {
          status_port: cluster.nginxStatusPort,
          every: hc.aliveInterval,
          budget_cs: alive.budgetCs,
          reserve_cs: alive.reserveCs,
          first_run: PATHS.aliveFirstRun,
        }),
      ),
    );
  files.push(
    file(
      nginxSiteFile(lb.nginx, cluster.name),
      '0644',
      'nginx',
      renderTemplate(
        'nginx-site.conf.hbs',
        nginxContext(cluster, lb, versions, token, opts.drainedBackends ?? new Set()),
      ),
    ),
  );
  for (const t of tlsFileSpecs(cluster))
    files.push({ ...file(t.path, t.mode, 'nginx', t.content), dirMode: '0700', kind: t.kind });
  files.push(
    file(
      PATHS.sysctl,
      '0644',
      'sysctl',
      renderTemplate('sysctl.conf.hbs', { lines: Object.entries(cluster.sysctl).map(([k, v]) => `${k} = ${v}`) }),
    ),
  );
  const secrets = [
    ...cluster.vips.flatMap((v) => [
      ...(v.auth ? [v.auth.pass] : []),
      ...(v.notify?.webhook ? [v.notify.webhook] : []),
    ]),
    ...tlsSecrets(cluster),
    ...(token ? [token] : []),
  ];
  return { cluster, lb, files, sysctl: { ...cluster.sysctl }, secrets, versions };
}

export function renderInventory(inv: Inventory): HostRender[] {
  return inv.clusters.flatMap((cluster) => cluster.lbs.map((lb) => renderHost(cluster, lb)));
}
