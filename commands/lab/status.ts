import { BaseCommand, EXIT } from '../../src/cli/base-command.js';
import { status } from '../../src/lab/lab.js';

export default class LabStatusCommand extends BaseCommand {
  static override summary = 'List the labs on this machine and how many of their hosts run.';
  static override description = `One line per lab: its id, its health (running, degraded: some hosts are not, orphan: links or namespaces left without state), how many hosts run, its subnet and where its files are.

Exit codes: 0 listed (also when there is none), 1 failed, 2 usage error.`;
  static override examples = ['<%= config.bin %> lab status', '<%= config.bin %> lab status --json'];
  static override enableJsonFlag = true;

  async run() {
    await this.parse(LabStatusCommand);
    const labs = await status();
    if (labs.length === 0) this.log('no labs');
    for (const l of labs) {
      const where = l.outDir ? ` files in ${l.outDir}` : ' (no state: hactl lab down --all removes it)';
      this.log(
        `${l.id.padEnd(9)} ${l.health.padEnd(9)} ${String(l.running)}/${l.hosts} hosts ${l.subnet ?? ''}${where}`,
      );
    }
    return this.finish({ ok: true, labs }, EXIT.ok);
  }
}
