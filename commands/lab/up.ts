import { Command, Flags } from '@oclif/core';
import { DEFAULT_OPTIONS, up } from '../../src/lab/lab.js';
import type { LabState } from '../../src/lab/types.js';

export default class LabUp extends Command {
  static override summary = 'Start a rehearsal cluster of real hosts on this Linux machine.';
  static override description = `Each host is a set of namespaces (network, mount, pid, uts) over an overlay of this
machine's root, running its own sshd, on a private bridge. Writes inventory.yaml, the SSH key
it authorised and known_hosts into --dir, so hactl deploy works with strict host key checking.
Load balancers have keepalived and nginx installed but not configured; backends answer with
their name and the Host header they got. Needs Linux and root.`;

  static override examples = [
    '<%= config.bin %> lab up',
    '<%= config.bin %> lab up --clusters 25 --host-keys no-rsa --dir /tmp/lab50',
    '<%= config.bin %> lab up --dual-master --backends 2',
    '<%= config.bin %> lab up --install-deps',
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
    'install-deps': Flags.boolean({
      description: 'apt-get install missing prerequisites first (Debian/Ubuntu).',
      default: false,
    }),
  };

  async run(): Promise<LabState> {
    const { flags } = await this.parse(LabUp);
    const lab = await up({
      clusters: flags.clusters,
      lbs: flags.lbs,
      backends: flags.backends,
      dualMaster: flags['dual-master'],
      outDir: flags.dir,
      installDeps: flags['install-deps'],
      hostKeys: flags['host-keys'] as 'all' | 'no-rsa',
      onProgress: (m) => this.logToStderr(m),
    });
    const first = lab.hosts[0];
    this.log(
      `lab ${lab.id} up in ${(lab.timings.totalMs / 1000).toFixed(1)} s: ${lab.hosts.length} hosts on ${lab.subnet} (this machine is ${lab.bridgeIp})`,
    );
    for (const h of lab.hosts)
      this.log(`  ${h.name.padEnd(7)} ${h.role.padEnd(8)} ${h.ip.padEnd(15)} ${h.cluster ?? ''}`);
    for (const c of lab.clusters)
      for (const v of c.vips)
        this.log(`  ${v.name.padEnd(7)} vip      ${v.cidr.padEnd(18)} vrid ${v.vrid}, master ${v.master}`);
    this.log(`inventory: ${lab.files.inventory}`);
    this.log(
      `try:       ssh -i ${lab.files.identity} -o UserKnownHostsFile=${lab.files.knownHosts} -o StrictHostKeyChecking=yes root@${first.ip} hostname`,
    );
    this.log(`then:      ${this.config.bin} deploy -i ${lab.files.inventory}`);
    this.log(`remove:    ${this.config.bin} lab down --dir ${lab.outDir}`);
    return lab;
  }
}
