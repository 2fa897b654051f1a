import { Flags } from '@oclif/core';
import { BaseCommand, EXIT, inventoryFlag } from '../src/cli/base-command.js';
import { renderInventory } from '../src/render/render.js';
import { writeRenders } from '../src/render/write.js';

export default class Render extends BaseCommand {
  static override summary = 'Render every configuration file to a local directory, as DIR/<host>/<path on the host>.';
  static override description = `Pure and offline: nothing is sent anywhere. Use it to review what deploy would push.

Exit codes: 0 written, 1 a file could not be written, 2 inventory or usage error (--out names a file, not a directory).`;
  static override examples = [
    '<%= config.bin %> render --inventory inventory.yaml --out out/',
    '<%= config.bin %> render --inventory inventory.yaml --out /tmp/rendered --json',
  ];
  static override enableJsonFlag = true;
  static override flags = {
    inventory: inventoryFlag,
    out: Flags.string({ char: 'o', description: 'Output directory.', required: true }),
  };

  async run() {
    const { flags } = await this.parse(Render);
    const inventory = await this.loadInventory(flags.inventory);
    const written = writeRenders(flags.out, renderInventory(inventory));
    for (const w of written) this.log(`${w.mode} ${w.file}`);
    return this.finish({ ok: true, out: flags.out, files: written }, EXIT.ok);
  }
}
