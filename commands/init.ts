import { Flags } from '@oclif/core';
import { BaseCommand, EXIT } from '../src/cli/base-command.js';
import { runInit } from '../src/init/init.js';
import { formatProblem } from '../src/inventory/problems.js';

export default class Init extends BaseCommand {
  static override summary =
    'Write an inventory: a wizard that discovers the load balancers over SSH, or the same answers as flags.';
  static override description = `Asks for the load balancers, SSH user and key, mode (active-passive or dual-master), VIPs, backends and server names. Where the hosts are reachable it reads each one's interfaces and addresses over SSH, listens ~3 s for VRRP adverts (python3 or tcpdump on the host, if present) and reads existing keepalived configs, then proposes the VRRP interface, free VIPs in the subnet, VRIDs not seen on the segment, and priorities; accept or change each.

The inventory is written with comments and only after it passes the checks of \`hactl validate\`. An existing file is replaced only with --force (or after you confirm). Without a terminal (or with --yes) nothing is asked: flags and discovery must answer everything, otherwise init exits 2 naming the missing flags.

Exit codes: 0 written, 1 failed (or you answered no to overwriting the file), 2 usage error (missing answers, invalid values) or refused (the file exists, no --force and no terminal to ask on).`;
  static override examples = [
    '<%= config.bin %> init',
    '<%= config.bin %> init --output inventory.yaml --lb kl1=192.168.10.20 --lb kl2=192.168.10.30 --backend 192.168.10.10 --backend 192.168.10.11 --server-name www.example.com --yes',
    '<%= config.bin %> init --no-discover --lb kl1=192.168.10.20 --lb kl2=192.168.10.30 --mode dual-master --interface eth0 --vip 192.168.10.60/24 --vip 192.168.10.80/24 --backend web01=192.168.10.10:80 --server-name www.example.com --yes',
  ];
  static override flags = {
    output: Flags.string({ char: 'o', description: 'Inventory file to write.', default: 'inventory.yaml' }),
    force: Flags.boolean({ description: 'Overwrite the output file if it exists.', default: false }),
    yes: Flags.boolean({
      char: 'y',
      description: 'Ask nothing: accept every proposal; fail (exit 2) if an answer is missing.',
      default: false,
    }),
    discover: Flags.boolean({
      description: 'Discover interfaces, addresses and VRIDs over SSH (--no-discover: offline).',
      allowNo: true,
      default: true,
    }),
    cluster: Flags.string({ description: 'Cluster name. Default: web.' }),
    lb: Flags.string({
      description: 'Load balancer as NAME=ADDRESS (or ADDRESS); repeat for each, at least two.',
      multiple: true,
    }),
    user: Flags.string({ description: 'SSH user. Default: root.' }),
    'ssh-port': Flags.integer({ description: 'SSH port. Default: 22.', min: 1, max: 65535 }),
    'identity-file': Flags.string({ description: 'SSH private key. Default: the ssh-agent and ~/.ssh/id_*.' }),
    'known-hosts': Flags.string({ description: 'known_hosts file. Default: ~/.ssh/known_hosts.' }),
    'host-key-policy': Flags.string({
      description: 'strict or accept-new. Default: accept-new.',
      options: ['strict', 'accept-new'],
    }),
    'jump-host': Flags.string({ description: 'Bastion as [user@]host[:port].' }),
    mode: Flags.string({
      description: 'active-passive (one VIP) or dual-master (two). Default: active-passive.',
      options: ['active-passive', 'dual-master'],
    }),
    interface: Flags.string({ description: "VRRP interface. Default: the one discovered holding the host's address." }),
    vip: Flags.string({
      description: 'VIP as ADDRESS/PREFIX; repeat for dual-master. Default: a free address discovered in the subnet.',
      multiple: true,
    }),
    vrid: Flags.integer({
      description: 'virtual_router_id per VIP, in --vip order. Default: one not seen on the segment, from 51.',
      multiple: true,
      min: 1,
      max: 255,
    }),
    priorities: Flags.string({
      description: 'Priorities per VIP as NAME=N,NAME=N, in --vip order. Default: master 150, then 100, 90…',
      multiple: true,
    }),
    backend: Flags.string({ description: 'Backend as [NAME=]ADDRESS[:PORT]; repeat for each.', multiple: true }),
    'server-name': Flags.string({ description: 'Server name of the site; repeat for more.', multiple: true }),
    'health-path': Flags.string({ description: 'Path checked on the backends and through the VIPs. Default: /.' }),
    'vrrp-pass-env': Flags.string({
      description:
        'Environment variable holding the VRRP password; "" for no VRRP authentication. Default: HACTL_VRRP_PASS.',
    }),
  };

  async run() {
    const { flags } = await this.parse(Init);
    const ctx = await this.ctx();
    const tty = await this.interactive();
    const result = await runInit(
      {
        output: flags.output,
        force: flags.force,
        discover: flags.discover,
        cluster: flags.cluster,
        lbs: flags.lb,
        user: flags.user,
        port: flags['ssh-port'],
        identityFile: flags['identity-file'],
        knownHosts: flags['known-hosts'],
        hostKeyPolicy: flags['host-key-policy'] as 'strict' | 'accept-new' | undefined,
        jumpHost: flags['jump-host'],
        mode: flags.mode as 'active-passive' | 'dual-master' | undefined,
        interface: flags.interface,
        vips: flags.vip,
        vrids: flags.vrid,
        priorities: flags.priorities,
        backends: flags.backend,
        serverNames: flags['server-name'],
        healthPath: flags['health-path'],
        vrrpPassEnv: flags['vrrp-pass-env'],
      },
      {
        prompter: tty && !flags.yes ? ctx.prompter() : undefined,
        discover: ctx.discover(),
        log: (l) => this.logToStderr(l),
        env: ctx.env,
      },
    );
    // An unset password variable is not a problem yet: the next steps say to export it.
    for (const w of result.warnings) if (w.rule !== 'auth-env') this.logToStderr(formatProblem(w));
    const a = result.answers;
    this.log(
      `Wrote ${result.file}: cluster ${a.cluster}, ${a.mode}, ${a.lbs.map((l) => l.name).join(' + ')} on ${a.interface}, ${a.vips.map((v) => `${v.name} ${v.address} (VRID ${v.vrid}, master ${v.master})`).join(', ')}.`,
    );
    this.log('Next:');
    for (const n of result.next) this.log(`  ${n}`);
    return this.finish({ ok: true, file: result.file, answers: result.answers, next: result.next }, EXIT.ok);
  }
}
