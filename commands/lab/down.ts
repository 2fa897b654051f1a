import { Flags } from '@oclif/core';
import { BaseCommand, EXIT } from '../../src/cli/base-command.js';
import { DEFAULT_OPTIONS, down, downAll } from '../../src/lab/lab.js';

export default class LabDown extends BaseCommand {
  static override summary = 'Remove a lab: its processes, namespaces, links, mounts and files.';
  static override description = `Kills every process of the lab's hosts, deletes their network namespaces, veths and the bridge, removes the lab's state and the files lab up wrote, then checks that nothing is left. --all removes every lab on this machine, including labs left behind by killed runs.

Exit codes: 0 removed (or no lab to remove with --all), 1 something could not be removed (or there is no lab in --dir), 2 usage error.`;

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

  async run() {
    const { flags } = await this.parse(LabDown);
    const result = flags.all ? await downAll() : { ...(await down(flags.dir)), errors: [] };
    this.log(result.removed.length > 0 ? `removed ${result.removed.join(', ')}` : 'no lab to remove');
    for (const e of result.errors) this.logToStderr(`hactl: ${e}`);
    const ok = result.errors.length === 0;
    const message = ok ? undefined : result.errors.join('\n');
    return this.finish({ ok, ...result, ...(message ? { message } : {}) }, ok ? EXIT.ok : EXIT.failed);
  }
}
