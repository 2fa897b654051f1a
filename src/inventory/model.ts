/**
 * The validated, defaults-applied inventory. Everything downstream (render, plan, run, verify)
 * reads this model, never the raw YAML document.
 */
import type { Secret } from './secret.js';
import type { SshDoc } from './schema.js';
import type { CertSummary } from '../util/x509.js';

export type HostKeyPolicy = 'strict' | 'accept-new';

export interface Auth {
  type: 'PASS';
  pass: Secret;
}

/**
 * How nginx runs on a load balancer: the distribution's package and its service, or a build
 * under its own prefix that hactl runs directly (`binary -p prefix -c conf …`).
 */
export type NginxLayout =
  | { kind: 'package'; includeDir: string }
  | { kind: 'prefix'; binary: string; prefix: string; conf: string; includeDir: string; pidFile: string };

export interface LoadBalancer {
  name: string;
  address: string;
  /** The node's own address on the VRRP interface, when known (IP without prefix). */
  vrrpAddress?: string;
  interface: string;
  /** Inventory SSH settings, top-level defaults merged with this host's overrides. */
  ssh: SshDoc;
  nginx: NginxLayout;
}

/** The operator's state-change hooks for one VIP (the cluster's notify: merged with the VIP's own). */
export interface Notify {
  command?: string;
  /** A secret: it may carry a token (chat webhooks do). */
  webhook?: Secret;
  timeoutS: number;
}

/** One more address of a VIP (moves with it). */
export interface VipAddress {
  ip: string;
  prefix: number;
  family: 4 | 6;
  cidr: string;
  /** The interface it goes on; undefined: the VRRP interface. */
  dev?: string;
  label?: string;
}

/** VIPs keepalived keeps in one state (vrrp_sync_group). */
export interface SyncGroup {
  name: string;
  vips: string[];
}

/** A link a VIP tracks besides its VRRP interface (keepalived track_interface). */
export interface TrackedInterface {
  interface: string;
  /** 0: FAULT when the link is down; otherwise added to (or, negative, taken from) the priority. */
  weight: number;
  /** interface_up_down_delays, seconds; undefined: act at once. */
  downDelay?: number;
  upDelay?: number;
}

/** keepalived's global process and GARP settings (global_defs); undefined: keepalived's default. */
export interface KeepalivedGlobals {
  startupDelay?: number;
  maxAutoPriority?: number;
  noSwap: boolean;
  garpMasterDelay?: number;
  garpMasterRepeat?: number;
  garpInterval?: number;
}

export interface VipNode {
  lb: string;
  priority: number;
  state: 'MASTER' | 'BACKUP';
}

export interface Vip {
  name: string;
  /** Address without prefix. */
  ip: string;
  prefix: number;
  family: 4 | 6;
  /** address/prefix as written in keepalived.conf. */
  cidr: string;
  vrid: number;
  master: string;
  label?: string;
  advertInt: number;
  vrrpVersion: 2 | 3;
  auth?: Auth;
  unicast: boolean;
  preempt: boolean;
  preemptDelay?: number;
  /** One entry per load balancer of the cluster, in load_balancers order. */
  nodes: VipNode[];
  /** Hooks called on each state change of this VIP, when any are configured. */
  notify?: Notify;
  /** The interface of the VIP's own address when it is not the VRRP interface. */
  dev?: string;
  /** More addresses in virtual_ipaddress (same family as ip); absent: none. */
  addresses?: VipAddress[];
  /** Addresses in virtual_ipaddress_excluded (not in adverts, any family); absent: none. */
  excluded?: VipAddress[];
  /** Links tracked besides the VRRP interface (the cluster's and the VIP's own); absent: none. */
  trackInterfaces?: TrackedInterface[];
}

export interface HealthCheck {
  mode: 'script' | 'process' | 'both' | 'none';
  interval: number;
  timeout: number;
  fall: number;
  rise: number;
  weight: number;
  /**
   * Seconds between the alive check's connects to nginx's status port (a refused connect is a
   * dead nginx: FAULT at once, whatever `fall` says); 0: no alive check. Only with mode script
   * or both and weight 0.
   */
  aliveInterval: number;
}

export interface Backend {
  name: string;
  address: string;
  port: number;
  weight: number;
  maxFails?: number;
  failTimeout?: number;
  backup: boolean;
}

/** A site's HTTPS: the material was read and checked when the inventory was loaded. */
export interface SiteTls {
  /** The certificate file as given (full chain, leaf first): written to the hosts byte for byte. */
  certificatePem: string;
  /** As written in the inventory, for messages. */
  certificateFile: string;
  leaf: CertSummary;
  /** The private key's PEM text; empty when it is not known here (key_env unset under validate/verify). */
  key: Secret;
  /** Where the key comes from, for messages: the file as written, or $VARIABLE. */
  keySource: string;
  /** SHA-256 of the key's public half; '' when the key is not known here. */
  keyFingerprint: string;
  redirectHttp: boolean;
  hsts?: number;
  http2: boolean;
  /** The CA bundle verify and failover-test trust for this site (else node's public roots). */
  caPem?: string;
  caFile?: string;
  expiryWarningDays: number;
  /** The leaf names an OCSP responder and its issuer is in the file: nginx can staple. */
  ocspStapling: boolean;
}

export interface Site {
  name: string;
  serverNames: string[];
  /** The cluster's VIPs this site listens on (the same objects as Cluster.vips). */
  vips: Vip[];
  port: number;
  /** The cluster's backends of this site's upstream (the same objects as Cluster.backends). */
  backends: Backend[];
  upstream: string;
  healthPath: string;
  healthHost: string;
  proxyHeaders: [string, string][];
  identify: boolean;
  extra: string[];
  /** HTTPS, when the site has a tls: section. */
  tls?: SiteTls;
}

export interface Cluster {
  name: string;
  interface: string;
  lbs: LoadBalancer[];
  vips: Vip[];
  healthCheck: HealthCheck;
  nginxStatusPort: number;
  backends: Backend[];
  sites: Site[];
  /** vrrp_sync_groups; absent: none. */
  syncGroups?: SyncGroup[];
  /** keepalived's global settings; absent: the defaults (DEFAULTS.keepalived). */
  keepalived?: KeepalivedGlobals;
  /** Kernel settings every load balancer of the cluster needs (key → value), e.g. ip_nonlocal_bind. */
  sysctl: Record<string, string>;
  /**
   * The operator's probe key (render/probe-token.ts): keys the probe token when the cluster has
   * no VRRP password. Set by the command layer from the operator's config, not from the file.
   */
  probeKey?: Secret;
}

export interface Inventory {
  /** Path of the file it was loaded from (for messages). */
  file: string;
  clusters: Cluster[];
  /** Releases kept on each load balancer. */
  releases: { keep: number };
}

export const DEFAULTS = {
  sshPort: 22,
  sshUser: 'root',
  knownHosts: '~/.ssh/known_hosts',
  hostKeyPolicy: 'accept-new' as HostKeyPolicy,
  connectTimeoutS: 10,
  advertInt: 1,
  vrrpVersion: 2 as const,
  masterPriority: 150,
  backupPriority: 100,
  priorityStep: 10,
  nginxStatusPort: 8099,
  // fall 2: one slow HTTP probe on a loaded host is not a hung nginx. A dead one is found by
  // the alive check, every 0.1 s, without waiting for fall.
  healthCheck: {
    mode: 'script',
    interval: 1,
    timeout: 1,
    fall: 2,
    rise: 2,
    weight: 0,
    aliveInterval: 0.1,
  } as HealthCheck,
  sitePort: 80,
  tlsPort: 443,
  tlsExpiryWarningDays: 21,
  notifyTimeoutS: 5,
  keepalived: { noSwap: true } as KeepalivedGlobals,
  keepReleases: 10,
  backendPort: 80,
  proxyHeaders: [
    ['Host', '$host'],
    ['X-Forwarded-For', '$proxy_add_x_forwarded_for'],
    ['X-Real-IP', '$remote_addr'],
    ['X-Forwarded-Proto', '$scheme'],
  ] as [string, string][],
};

/**
 * What a cluster's `vrrp.profile` stands for; anything the inventory sets itself wins. fast: a
 * sub-second advert interval (VRRPv3, which has no authentication) and nginx probed over HTTP
 * every 0.1 s, failing at the first failed probe (fall 1: its soak under CPU load holds);
 * `npm run bench` measures its failover downtime and soaks it under CPU load (README, Failover).
 */
export const VRRP_PROFILES = {
  fast: {
    advertInt: 0.1,
    vrrpVersion: 3 as const,
    // Its HTTP probes every 0.1 s find a dead nginx as fast as the alive check would.
    healthCheck: { interval: 0.1, timeout: 0.2, fall: 1, aliveInterval: 0 } as Partial<HealthCheck>,
  },
} as const;
export type VrrpProfile = keyof typeof VRRP_PROFILES;

export function findLb(cluster: Cluster, name: string): LoadBalancer {
  const lb = cluster.lbs.find((l) => l.name === name);
  if (!lb) throw new Error(`cluster ${cluster.name} has no load balancer ${name}`);
  return lb;
}

export function allLbs(inv: Inventory): { cluster: Cluster; lb: LoadBalancer }[] {
  return inv.clusters.flatMap((cluster) => cluster.lbs.map((lb) => ({ cluster, lb })));
}
