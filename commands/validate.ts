import { Flags } from '@oclif/core';
import { BaseCommand, EXIT, inventoryFlag } from '../src/ui/base-command.js';
import { loadInventoryFile } from '../src/inventory/load.js';
import { formatProblem } from '../src/inventory/problems.js';

export default class Validate extends BaseCommand {
  static override summary = 'Check an inventory: schema, cross-host rules, and whether the health check can fail over.';
  static override description = `Reports every problem at once with file:line:column, the YAML path, what was expected and how to fix it. Touches no host.

Exit codes: 0 valid (warnings allowed), 1 invalid, 2 usage error.`;
  static override examples = [
    '<%= config.bin %> validate --inventory inventory.yaml',
    'HACTL_VRRP_PASS=s3cret <%= config.bin %> validate --inventory examples/seed-dual-master.yaml --json',
  ];
  static override enableJsonFlag = true;
  static override flags = {
    inventory: inventoryFlag,
    strict: Flags.boolean({ description: 'Treat warnings as errors.', default: false }),
  };

  async run() {
    const { flags } = await this.parse(Validate);
    const { inventory, problems } = loadInventoryFile(flags.inventory, { requireSecrets: false });
    const errors = problems.filter((p) => p.severity === 'error' || flags.strict);
    const ok = inventory !== undefined && errors.length === 0;
    const result = { ok, file: flags.inventory, problems };
    if (!this.jsonEnabled()) {
      for (const p of problems) this.log(formatProblem(p));
      if (ok) {
        const lbs = inventory!.clusters.reduce((n, c) => n + c.lbs.length, 0);
        const vips = inventory!.clusters.reduce((n, c) => n + c.vips.length, 0);
        this.log(
          `${flags.inventory}: valid (${inventory!.clusters.length} cluster(s), ${lbs} load balancers, ${vips} VIPs)`,
        );
      } else this.log(`\n${flags.inventory}: ${errors.length} problem(s)`);
    }
    if (!ok) {
      if (this.jsonEnabled()) this.logJson(result);
      this.exit(EXIT.failed);
    }
    return result;
  }
}
