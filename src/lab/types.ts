/** The lab's data: what `lab up` is asked for, what it builds, and what lab.json records. */

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
  netns: string;
  /** The machine-side end of the host's veth pair, a port of the lab bridge. */
  veth: string;
}

export interface VipPlan {
  name: string;
  ip: string;
  cidr: string;
  vrid: number;
  master: string;
}

export interface ClusterPlan {
  name: string;
  lbs: string[];
  vips: VipPlan[];
}

export interface LabPlan {
  id: string;
  index: number;
  subnet: string;
  prefix: number;
  bridge: string;
  bridgeIp: string;
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
  options: { clusters: number; lbs: number; backends: number; dualMaster: boolean; hostKeys: 'all' | 'no-rsa' };
  files: { inventory: string; identity: string; knownHosts: string; labJson: string };
  hosts: HostState[];
  timings: Record<string, number>;
}
