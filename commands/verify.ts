import { Flags } from '@oclif/core';
import { BaseCommand, EXIT, inventoryFlag } from '../src/ui/base-command.js';
import { verify } from '../src/verify/verify.js';
import { sshConnector } from '../src/run/connector.js';
import { formatVerify, quietVerify, verifyJson } from '../src/ui/verify-view.js';

export default class Verify extends BaseCommand {
  static override summary =
    'Prove the front end works now: services, config, backends, VIP holders, sites; diagnose split brain.';
  static override description = `All checks run in parallel over one SSH connection per load balancer plus HTTP from this machine. A VIP with more than one holder (split brain) is diagnosed: adverts not arriving, a firewall dropping VRRP, or nodes whose keepalived.conf disagree, each with the node, the evidence and the fix.

Exit codes: 0 all checks pass, 1 a check failed, 2 inventory or usage error.`;
  static override examples = [
    '<%= config.bin %> verify --inventory inventory.yaml',
    '<%= config.bin %> verify --inventory inventory.yaml --json',
    '*/1 * * * * <%= config.bin %> verify --inventory /etc/hactl/inventory.yaml --quiet || logger -t hactl "front end unhealthy"',
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
    const inventory = this.loadInventory(flags.inventory);
    const report = await verify(inventory, { connect: sshConnector(), diagnose: !flags['no-diagnose'] });
    // exitCode rather than this.exit(): with --json, oclif would print the exit as a second document.
    if (!report.ok) process.exitCode = EXIT.failed;
    const json = verifyJson(report);
    if (this.jsonEnabled()) return json;
    if (flags.quiet) for (const line of quietVerify(report)) this.log(line);
    else
      this.log(
        formatVerify(
          report,
          inventory.clusters.map((c) => c.name),
        ),
      );
    return json;
  }
}
