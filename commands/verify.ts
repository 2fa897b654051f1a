import { Flags } from '@oclif/core';
import { BaseCommand, EXIT, inventoryFlag } from '../src/cli/base-command.js';
import { formatVerify, quietVerify, verifyJson } from '../src/ui/verify-view.js';
import { verify } from '../src/verify/verify.js';

export default class Verify extends BaseCommand {
  static override summary =
    'Prove the front end works now: services, config, backends, VIP holders, sites; diagnose split brain.';
  static override description = `All checks run in parallel over one SSH connection per load balancer plus HTTP from this machine. A VIP with more than one holder (split brain) is diagnosed: adverts not arriving, a firewall dropping VRRP, or nodes whose keepalived.conf disagree, each with the node, the evidence and the fix. Needs no secret: when the VRRP password's variable is unset, keepalived.conf is compared with the password masked on both sides.

Exit codes: 0 all checks pass, 1 a check failed, 2 inventory or usage error.`;
  static override examples = [
    '<%= config.bin %> verify --inventory inventory.yaml',
    '<%= config.bin %> verify --inventory inventory.yaml --json',
    '<%= config.bin %> verify --inventory /etc/hactl/inventory.yaml --quiet',
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
  };

  async run() {
    const { flags } = await this.parse(Verify);
    // An expired certificate is what verify reports (exit 1), not a reason to refuse to look.
    const inventory = await this.loadInventory(flags.inventory, { requireSecrets: false, certificateDates: 'warning' });
    const ctx = await this.ctx();
    const report = await verify(inventory, { connect: ctx.connect(), http: ctx.http, diagnose: !flags['no-diagnose'] });
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
}
