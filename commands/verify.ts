import { Flags } from '@oclif/core';
import { BaseCommand, EXIT, inventoryFlag } from '../src/cli/base-command.js';
import { UsageError } from '../src/errors.js';
import { allLbs } from '../src/inventory/model.js';
import { nagiosUnknown, nagiosVerify } from '../src/ui/nagios.js';
import { prometheusVerify } from '../src/ui/prometheus.js';
import { formatVerify, quietVerify, verifyJson } from '../src/ui/verify-view.js';
import { verify } from '../src/verify/verify.js';

export default class Verify extends BaseCommand {
  static override summary =
    'Prove the front end works now: services, config, backends, VIP holders, sites; diagnose split brain.';
  static override description = `All checks run in parallel over one SSH connection per load balancer plus HTTP from this machine. A VIP with more than one holder (split brain) is diagnosed: adverts not arriving, a firewall dropping VRRP, or nodes whose keepalived.conf disagree, each with the node, the evidence and the fix. Needs no secret: when the VRRP password's variable is unset, keepalived.conf is compared with the password masked on both sides.

--census also listens for VRRP adverts on each load balancer's interface for a few advert intervals, and fails when a router outside the cluster advertises one of its VRIDs.

--format prometheus prints the Prometheus text exposition (metrics in the README) and exits 0 whenever it printed it: the failures are in the metrics. --format nagios prints one Nagios/Icinga status line with perfdata and exits 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.

Exit codes: 0 all checks pass, 1 a check failed, 2 inventory or usage error.`;
  static override examples = [
    '<%= config.bin %> verify --inventory inventory.yaml',
    '<%= config.bin %> verify --inventory inventory.yaml --json',
    '<%= config.bin %> verify --inventory /etc/hactl/inventory.yaml --quiet',
    '<%= config.bin %> verify --inventory inventory.yaml --census',
    '<%= config.bin %> verify --inventory inventory.yaml --format prometheus > /var/lib/node_exporter/hactl.prom.$$ && mv /var/lib/node_exporter/hactl.prom.$$ /var/lib/node_exporter/hactl.prom',
    '<%= config.bin %> verify --inventory inventory.yaml --format nagios',
  ];
  static override enableJsonFlag = true;
  static override flags = {
    inventory: inventoryFlag,
    quiet: Flags.boolean({
      char: 'q',
      description: 'Print nothing when healthy, one line per problem otherwise (for cron).',
      default: false,
    }),
    'no-diagnose': Flags.boolean({
      description: 'Skip the bounded VRRP advert observation on split brain.',
      default: false,
    }),
    census: Flags.boolean({
      description:
        'Listen for VRRP adverts from routers outside each cluster that use one of its VRIDs (3 advert intervals, at least 3 s).',
      default: false,
    }),
    format: Flags.string({
      description:
        'Output for people (text), for Prometheus (the text exposition) or for Nagios/Icinga (a plugin line).',
      options: ['text', 'prometheus', 'nagios'],
      default: 'text',
    }),
  };

  async run() {
    const { flags } = await this.parse(Verify);
    const format = flags.format as 'text' | 'prometheus' | 'nagios';
    this.nagios = format === 'nagios';
    if (format !== 'text' && (this.jsonEnabled() || flags.quiet))
      throw new UsageError(`--format ${format} prints its own document: leave out --json and --quiet`);
    // An expired certificate is what verify reports (exit 1), not a reason to refuse to look.
    const inventory = await this.loadInventory(flags.inventory, { requireSecrets: false, certificateDates: 'warning' });
    const ctx = await this.ctx();
    const connect = ctx.connect();
    await connect.warm?.(allLbs(inventory).map(({ lb }) => lb));
    const report = await verify(inventory, {
      connect,
      http: ctx.http,
      diagnose: !flags['no-diagnose'],
      census: flags.census,
      nodeStates: format !== 'text',
    });
    if (format === 'prometheus') {
      process.stdout.write(prometheusVerify(report, ctx.now()));
      return verifyJson(report);
    }
    if (format === 'nagios') {
      const n = nagiosVerify(report);
      process.stdout.write(n.text);
      process.exitCode = n.exitCode;
      return verifyJson(report);
    }
    if (flags.quiet) for (const line of quietVerify(report)) this.log(line);
    else
      this.log(
        formatVerify(
          report,
          inventory.clusters.map((c) => c.name),
        ),
      );
    return this.finish(verifyJson(report), report.ok ? EXIT.ok : EXIT.failed);
  }

  private nagios = false;

  /** Under --format nagios an inventory or usage error is the plugin's UNKNOWN (exit 3), on stdout. */
  protected override async catch(err: Error & { exitCode?: number }): Promise<unknown> {
    if (!this.nagios) return super.catch(err);
    const n = nagiosUnknown(err.message);
    process.stdout.write(n.text);
    process.exitCode = n.exitCode;
    return undefined;
  }
}
