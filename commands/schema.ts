import { readFileSync, writeFileSync } from 'node:fs';
import { Flags } from '@oclif/core';
import { BaseCommand } from '../src/cli/base-command.js';
import { InventorySchema } from '../src/inventory/schema.js';
import { inventoryReference, spliceReference } from '../src/docs/inventory-reference.js';

export default class Schema extends BaseCommand {
  static override summary = 'Print the inventory JSON Schema (for yaml-language-server and other editors).';
  static override description =
    'With --markdown, prints the inventory reference table the README embeds (generated from the same schema).';
  static override examples = [
    '<%= config.bin %> schema > schema/inventory.schema.json',
    '<%= config.bin %> schema --markdown',
    '<%= config.bin %> schema --update-readme README.md',
  ];

  static override flags = {
    markdown: Flags.boolean({ description: 'Print the inventory reference as a Markdown table.', default: false }),
    'update-readme': Flags.string({ description: 'Rewrite the reference section of this README in place.' }),
  };

  async run() {
    const { flags } = await this.parse(Schema);
    if (flags['update-readme']) {
      const file = flags['update-readme'];
      writeFileSync(file, spliceReference(readFileSync(file, 'utf8')));
      this.log(`updated the inventory reference in ${file}`);
      return;
    }
    if (flags.markdown) {
      process.stdout.write(inventoryReference());
      return;
    }
    this.log(JSON.stringify(InventorySchema, null, 2));
  }
}
