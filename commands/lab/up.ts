import { Flags } from '@oclif/core';
import { BaseCommand, EXIT } from '../../src/cli/base-command.js';
import { DEFAULT_OPTIONS, up } from '../../src/lab/lab.js';
import { labUpReport } from '../../src/lab/report.js';
import { DEFAULT_OS, OS_CHOICES, type OsChoice } from '../../src/lab/releases.js';
import type { NginxLayout, PackagesChoice } from '../../src/lab/image-plan.js';

export default class LabUp extends BaseCommand {
  static override summary = 'Start a rehearsal cluster of real hosts on this Linux machine.';
  static override description = `Each host is a set of namespaces (network, mount, pid, uts) over an overlay of a real Debian root file system (built once per release with debootstrap, cached in /var/cache/hactl-lab), running that release's own sshd, on a private bridge with no route out. Its apt sees only a local repository of keepalived, nginx and their dependencies, with empty package lists, as a fresh cloud image. Writes inventory.yaml, the SSH key it authorised and known_hosts into --dir, so hactl deploy works with strict host key checking. Load balancers have no keepalived or nginx (--packages none, a new server) or have both installed but not configured (--packages preinstalled); backends answer with their name and the Host header they got. Needs Linux and root.

Exit codes: 0 the lab is up, 1 it could not be brought up (not root, a missing prerequisite, a host that did not boot; nothing is left behind), 2 usage error or refused (--dir already holds a lab).`;

  static override examples = [
    '<%= config.bin %> lab up',
    '<%= config.bin %> lab up --clusters 25 --host-keys no-rsa --dir /tmp/lab50',
    '<%= config.bin %> lab up --dual-master --backends 2',
    '<%= config.bin %> lab up --install-deps',
    '<%= config.bin %> lab up --os mixed --dir /tmp/lab-mixed',
    '<%= config.bin %> lab up --os debian-13 --packages preinstalled --ipv6',
    '<%= config.bin %> lab up --nginx prefix --dir /tmp/lab-seed',
    '<%= config.bin %> lab up --tls --dir /tmp/lab-tls',
    '<%= config.bin %> lab up --private-net --dir /tmp/lab-nic',
  ];

  static override enableJsonFlag = true;

  static override flags = {
    clusters: Flags.integer({
      description: 'Clusters, each with its own VIPs.',
      default: DEFAULT_OPTIONS.clusters,
      min: 1,
    }),
    lbs: Flags.integer({ description: 'Load balancers per cluster.', default: DEFAULT_OPTIONS.lbs, min: 2 }),
    backends: Flags.integer({
      description: 'Backends, shared by every cluster.',
      default: DEFAULT_OPTIONS.backends,
      min: 1,
    }),
    'dual-master': Flags.boolean({ description: 'Two VIPs per cluster with mirrored masters.', default: false }),
    dir: Flags.string({
      description: 'Where inventory.yaml, id_ed25519, known_hosts and lab.json go.',
      default: DEFAULT_OPTIONS.outDir,
    }),
    'host-keys': Flags.string({
      description: 'all: ssh-keygen -A (RSA, ECDSA, Ed25519); no-rsa: skip RSA, much faster for big labs.',
      options: ['all', 'no-rsa'],
      default: 'all',
    }),
    os: Flags.string({
      description:
        'Debian release of the hosts; mixed: the load balancers of each cluster run different releases (11, 13, 12, ...).',
      options: [...OS_CHOICES],
      default: DEFAULT_OS,
    }),
    packages: Flags.string({
      description: 'none: load balancers without keepalived and nginx (a new server); preinstalled: both installed.',
      options: ['none', 'preinstalled'],
      default: 'none',
    }),
    nginx: Flags.string({
      description:
        "package: Debian's nginx; prefix: a source-built layout, nginx at /application/nginx/sbin/nginx with /app/nginx/conf, no package.",
      options: ['package', 'prefix'],
      default: 'package',
    }),
    ipv6: Flags.boolean({
      description: 'Also give every host an address on a ULA /64, and each cluster an IPv6 VIP (VRRPv3).',
      default: false,
    }),
    tls: Flags.boolean({
      description:
        'HTTPS: the lab makes its own CA and a certificate for its server name (ca.pem, ca.key, tls/ in --dir); the site listens on 443 and redirects port 80.',
      default: false,
    }),
    'private-net': Flags.boolean({
      description:
        'Every load balancer also gets eth1 on a private bridge of its cluster (198.18.<cluster>.0/24, no address of this machine there): the inventory sends VRRP adverts over eth1 and keeps the VIPs on eth0.',
      default: false,
    }),
    fast: Flags.boolean({
      description:
        'The inventory uses vrrp.profile: fast (VRRPv3 adverts and the nginx check every 0.1 s, no VRRP authentication), to rehearse sub-second failover.',
      default: false,
    }),
    'install-deps': Flags.boolean({
      description: 'apt-get install missing prerequisites first (Debian/Ubuntu).',
      default: false,
    }),
  };

  async run() {
    const { flags } = await this.parse(LabUp);
    const lab = await up({
      clusters: flags.clusters,
      lbs: flags.lbs,
      backends: flags.backends,
      dualMaster: flags['dual-master'],
      outDir: flags.dir,
      installDeps: flags['install-deps'],
      hostKeys: flags['host-keys'] as 'all' | 'no-rsa',
      os: flags.os as OsChoice,
      packages: flags.packages as PackagesChoice,
      nginx: flags.nginx as NginxLayout,
      ipv6: flags.ipv6,
      tls: flags.tls,
      privateNet: flags['private-net'],
      fast: flags.fast,
      onProgress: (m) => this.logToStderr(m),
    });
    for (const line of labUpReport(lab, this.config.bin)) this.log(line);
    return this.finish({ ok: true, lab }, EXIT.ok);
  }
}
