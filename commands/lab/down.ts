import { Command, Flags } from '@oclif/core';
import { DEFAULT_OPTIONS, down, downAll } from '../../src/lab/lab.js';

export default class LabDown extends Command {
  static override summary = 'Remove a lab: its processes, namespaces, links, mounts and files.';
  static override description = `Kills every process of the lab's hosts, deletes their network namespaces, veths and the
bridge, removes the lab's state and the files lab up wrote, then checks that nothing is left.
--all removes every lab on this machine, including labs left behind by killed runs.`;

  static override examples = [
    '<%= config.bin %> lab down',
    '<%= config.bin %> lab down --dir /tmp/lab50',
    '<%= config.bin %> lab down --all',
  ];

  static override enableJsonFlag = true;

  static override flags = {
    dir: Flags.string({
      description: 'The --dir the lab was started with.',
      default: DEFAULT_OPTIONS.outDir,
      exclusive: ['all'],
    }),
    all: Flags.boolean({ description: 'Every lab on this machine, also those of killed runs.', default: false }),
  };

  async run(): Promise<{ removed: string[]; errors: string[] }> {
    const { flags } = await this.parse(LabDown);
    const result = flags.all ? await downAll() : { ...(await down(flags.dir)), errors: [] };
    this.log(result.removed.length > 0 ? `removed ${result.removed.join(', ')}` : 'no lab to remove');
    if (result.errors.length > 0) this.error(result.errors.join('\n'), { exit: 1 });
    return result;
  }
}
