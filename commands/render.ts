import { Flags } from '@oclif/core';
import { BaseCommand, inventoryFlag } from '../src/ui/base-command.js';
import { renderInventory } from '../src/render/render.js';
import { writeRenders } from '../src/render/write.js';

export default class Render extends BaseCommand {
  static override summary = 'Render every configuration file to a local directory, as DIR/<host>/<path on the host>.';
  static override description = 'Pure and offline: nothing is sent anywhere. Use it to review what deploy would push.';
  static override examples = [
    'HACTL_VRRP_PASS=s3cret <%= config.bin %> render --inventory inventory.yaml --out out/',
    '<%= config.bin %> render --inventory examples/seed-dual-master.yaml --out /tmp/seed',
  ];
  static override enableJsonFlag = true;
  static override flags = {
    inventory: inventoryFlag,
    out: Flags.string({ char: 'o', description: 'Output directory.', required: true }),
  };

  async run() {
    const { flags } = await this.parse(Render);
    const inventory = this.loadInventory(flags.inventory);
    const written = writeRenders(flags.out, renderInventory(inventory));
    if (!this.jsonEnabled()) for (const w of written) this.log(`${w.mode} ${w.file}`);
    return { out: flags.out, files: written };
  }
}
