import { BaseCommand } from '../src/ui/base-command.js';
import { InventorySchema } from '../src/inventory/schema.js';

export default class Schema extends BaseCommand {
  static override summary = 'Print the inventory JSON Schema (for yaml-language-server and other editors).';
  static override examples = ['<%= config.bin %> schema > schema/inventory.schema.json'];

  async run() {
    this.log(JSON.stringify(InventorySchema, null, 2));
  }
}
