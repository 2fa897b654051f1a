import { Flags } from '@oclif/core';
import { BaseCommand, EXIT, inventoryFlag } from '../src/cli/base-command.js';
import { loadInventoryFile } from '../src/inventory/load.js';
import { formatProblem } from '../src/inventory/problems.js';

export default class Validate extends BaseCommand {
  static override summary = 'Check an inventory: schema, cross-host rules, and whether the health check can fail over.';
  static override description = `Reports every problem at once with file:line:column, the YAML path, what was expected and how to fix it. Touches no host. An unset password variable (auth.pass_env) is a warning here; deploy and render need it.

Exit codes: 0 valid (warnings allowed), 2 inventory or usage error (an invalid inventory exits 2, as with every other command).`;
  static override examples = [
    '<%= config.bin %> validate --inventory inventory.yaml',
    '<%= config.bin %> validate --inventory inventory.yaml --json',
    '<%= config.bin %> validate --inventory inventory.yaml --strict',
  ];
  static override enableJsonFlag = true;
  static override flags = {
    inventory: inventoryFlag,
    strict: Flags.boolean({ description: 'Treat warnings as errors.', default: false }),
  };

  async run() {
    const { flags } = await this.parse(Validate);
    const { env } = await this.ctx();
    const { inventory, problems } = loadInventoryFile(flags.inventory, { requireSecrets: false, env });
    const errors = problems.filter((p) => p.severity === 'error' || flags.strict);
    const ok = inventory !== undefined && errors.length === 0;
    for (const p of problems) this.log(formatProblem(p));
    let message: string;
    if (inventory && ok) {
      const lbs = inventory.clusters.reduce((n, c) => n + c.lbs.length, 0);
      const vips = inventory.clusters.reduce((n, c) => n + c.vips.length, 0);
      message = `${flags.inventory}: valid (${inventory.clusters.length} cluster(s), ${lbs} load balancers, ${vips} VIPs)`;
      this.log(message);
    } else {
      message = `${flags.inventory}: ${errors.length} problem(s)`;
      this.log(`\n${message}`);
    }
    const result = {
      ok,
      file: flags.inventory,
      message,
      problems,
      ...(ok ? {} : { error: { code: 'inventory', message, problems: errors } }),
    };
    return this.finish(result, ok ? EXIT.ok : EXIT.usage);
  }
}
