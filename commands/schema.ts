import { readFileSync, writeFileSync } from 'node:fs';
import { Flags } from '@oclif/core';
import { BaseCommand } from '../src/cli/base-command.js';
import { inventoryReference, schemaFile, spliceReference } from '../src/docs/inventory-reference.js';

export default class Schema extends BaseCommand {
  static override summary = 'Print the inventory JSON Schema (for yaml-language-server and other editors).';
  static override description = `The schema hactl validates inventories with. Point yaml-language-server at it (the first line of inventory.example.yaml shows how) for completion and checking while you edit. With --markdown, prints the inventory reference table the README embeds (generated from the same schema).

Exit codes: 0 printed, 2 usage error.`;
  static override examples = [
    '<%= config.bin %> schema > inventory.schema.json',
    '<%= config.bin %> schema --markdown',
  ];

  static override flags = {
    markdown: Flags.boolean({ description: 'Print the inventory reference as a Markdown table.', default: false }),
    // For hactl's own README (npm run build checks it); not for users, so not in --help.
    'update-readme': Flags.string({
      description: 'Rewrite the reference section of this README in place.',
      hidden: true,
    }),
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
    process.stdout.write(readFileSync(schemaFile(), 'utf8'));
  }
}
