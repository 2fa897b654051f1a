/** Every path hactl reads or writes on a load balancer, in one table. */
export const HOST_PATHS = {
  keepalivedConf: '/etc/keepalived/keepalived.conf',
  checkScript: '/etc/keepalived/hactl-check-nginx.sh',
  aliveScript: '/etc/keepalived/hactl-nginx-alive.sh',
  notifyScript: '/etc/keepalived/hactl-notify.sh',
  /**
   * The pid of the keepalived that last ran each looping check script (tmpfs): a run under a
   * keepalived that is not the one named here is that keepalived's first, and answers after one
   * probe (see the templates).
   */
  checkFirstRun: '/run/hactl-check-nginx.keepalived-pid',
  aliveFirstRun: '/run/hactl-nginx-alive.keepalived-pid',
  nginxConfDir: '/etc/nginx/conf.d',
  nginxConf: (cluster: string) => `/etc/nginx/conf.d/hactl-${cluster}.conf`,
  sysctl: '/etc/sysctl.d/90-hactl.conf',
  /** TLS certificates and keys (0700: the keys are root's alone). */
  tlsDir: '/etc/hactl/tls',
  /** The notify script's per-instance state files (tmpfs: gone after a reboot, like VRRP state). */
  vrrpStateDir: '/run/hactl/vrrp',
  /**
   * failover-test's fault records and their watchdogs' undo scripts and logs. tmpfs, like the
   * faults themselves: iptables rules, a SIGSTOP and a stopped service all end with a reboot,
   * so a record that outlived one would report a leftover that no longer exists.
   */
  faultsDir: '/run/hactl/faults',
  /** Transactions, backups and the deploy lock. */
  stateDir: '/var/lib/hactl',
  backupsDir: '/var/lib/hactl/backups',
  lockFile: '/var/lib/hactl/deploy.lock',
  lockHolder: '/var/lib/hactl/deploy.lock.holder',
  /**
   * The node's drain value, read by keepalived's track_file (weight 1): 0 in service, -253
   * drained (priority 1, below every peer), -254 drained to FAULT. Written by `hactl drain`
   * only; deploy never resets it (keepalived's init_file creates it with 0 when absent).
   */
  drainFile: '/var/lib/hactl/drain',
  /** Backends drained with `hactl drain --backend`, one `name address:port` per line. */
  drainedBackends: '/var/lib/hactl/drained-backends',
  /** One directory per release (root only: a release holds keepalived.conf with its auth_pass). */
  releasesDir: '/var/lib/hactl/releases',
  /** The id of the release this host is on (written with the files, by deploy and rollback). */
  releaseCurrent: '/var/lib/hactl/releases/current',
  /** One line per deploy or rollback: unix time, action, release id, who. */
  releaseHistory: '/var/lib/hactl/releases/history',
  osRelease: '/etc/os-release',
  keepalivedPid: '/run/keepalived.pid',
  /** Written by keepalived on its DATA and STATS signals. */
  keepalivedData: '/tmp/keepalived.data',
  keepalivedStats: '/tmp/keepalived.stats',
  /** keepalived ≥ 2.2 writes the result of its pre-reload configuration check here. */
  keepalivedReloadCheck: '/run/hactl-keepalived-reload-check.log',
} as const;

/** Backups of previous files kept on each host. */
export const KEEP_BACKUPS = 5;
