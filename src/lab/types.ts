/** The lab's data: what `lab up` is asked for, what it builds, and what lab.json records. */
import type { ImageKind, NginxLayout, PackagesChoice } from './image-plan.js';
import type { OsChoice, ReleaseId } from './releases.js';

export interface LabOptions {
  clusters: number;
  lbs: number;
  backends: number;
  dualMaster: boolean;
  /** Where inventory.yaml, the key pair, known_hosts and lab.json are written. */
  outDir: string;
  /** Labs made by test runs: `downStale()` may remove them once their owner process is gone. */
  ephemeral?: boolean;
  /** Hosts booted at once (each generates host keys; CPU bound). */
  concurrency?: number;
  /** `all` (default): ssh-keygen -A; `no-rsa`: Ed25519 and ECDSA host keys only, faster for big labs. */
  hostKeys?: 'all' | 'no-rsa';
  /** Debian release of every host, or `mixed` (load balancers of a cluster differ). Default debian-12. */
  os?: OsChoice;
  /** `none` (default): load balancers without keepalived and nginx, as a new server. */
  packages?: PackagesChoice;
  /** `prefix`: load balancers run nginx under /application/nginx, the seed's layout, with no nginx package. */
  nginx?: NginxLayout;
  /** Every host also gets an address on the lab's ULA /64, and each cluster an IPv6 VIP (VRRPv3). */
  ipv6?: boolean;
  /** The site is HTTPS: the lab makes its own CA and a certificate for its server name. */
  tls?: boolean;
  /**
   * Every load balancer also gets eth1 on a private bridge of its cluster: the inventory sends
   * VRRP adverts there, and the VIPs stay on eth0, the public side the machine reaches.
   */
  privateNet?: boolean;
  /** The inventory uses vrrp.profile fast: VRRPv3 adverts every 0.1 s, no authentication. */
  fast?: boolean;
  /** Run `apt-get install -y` for missing prerequisites first. */
  installDeps?: boolean;
  onProgress?: (message: string) => void;
}

export type HostRole = 'lb' | 'backend';

export interface HostPlan {
  name: string;
  role: HostRole;
  /** Cluster name, for load balancers. */
  cluster?: string;
  ip: string;
  /** The host's address on the lab's IPv6 prefix, with --ipv6. */
  ip6?: string;
  /** With --private-net, load balancers only: eth1 on the cluster's private bridge. */
  private?: PrivateLinkPlan;
  /** The Debian release the host runs and the image its root is an overlay of. */
  release: ReleaseId;
  image: ImageKind;
  netns: string;
  /** The machine-side end of the host's veth pair, a port of the lab bridge. */
  veth: string;
}

/** A load balancer's second link: eth1 inside, `veth` on the cluster's private bridge. */
export interface PrivateLinkPlan {
  ip: string;
  prefix: number;
  /** The machine-side end of the pair: hactl<n>-<host>p. */
  veth: string;
  bridge: string;
}

/** A cluster's private segment (--private-net): a bridge the machine has no address on. */
export interface PrivateNetPlan {
  bridge: string;
  subnet: string;
  prefix: number;
}

export interface VipPlan {
  name: string;
  family: 4 | 6;
  ip: string;
  cidr: string;
  vrid: number;
  master: string;
}

export interface ClusterPlan {
  name: string;
  lbs: string[];
  vips: VipPlan[];
  /** With --private-net: the segment VRRP adverts use. */
  privateNet?: PrivateNetPlan;
}

export interface LabPlan {
  id: string;
  index: number;
  subnet: string;
  prefix: number;
  bridge: string;
  bridgeIp: string;
  /** With --ipv6: the lab's ULA /64 and the machine's address on it. */
  subnet6?: string;
  bridgeIp6?: string;
  hosts: HostPlan[];
  clusters: ClusterPlan[];
  backends: string[];
  serverName: string;
  healthPath: string;
  nonRootUser: string;
}

export interface HostState extends HostPlan {
  /** The host's pid namespace init (sshd) as seen from the machine: killing it ends the host. */
  pid: number;
  /** The `unshare` process that waits for the init. */
  launcherPid: number;
  hostKeys: string[];
}

export interface LabState extends Omit<LabPlan, 'hosts'> {
  version: 1;
  stateDir: string;
  outDir: string;
  /** True when `lab up` created outDir, so `lab down` removes it again. */
  outDirCreated: boolean;
  createdAt: string;
  owner: { pid: number; startTime: string; ephemeral: boolean };
  options: {
    clusters: number;
    lbs: number;
    backends: number;
    dualMaster: boolean;
    hostKeys: 'all' | 'no-rsa';
    os: OsChoice;
    packages: PackagesChoice;
    nginx: NginxLayout;
    ipv6: boolean;
    tls?: boolean;
    privateNet?: boolean;
    fast?: boolean;
  };
  /** The images the hosts boot from ("debian-12/base": where, and what image.json says). */
  images: Record<string, { root: string; repo: string; built: boolean; marker: Record<string, string> }>;
  files: {
    inventory: string;
    identity: string;
    knownHosts: string;
    labJson: string;
    /** With --tls: the lab CA (certificate and key) and the site's certificate and key. */
    tls?: { ca: string; caKey: string; certificate: string; key: string };
  };
  hosts: HostState[];
  timings: Record<string, number>;
}
