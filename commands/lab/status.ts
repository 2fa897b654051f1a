import { Command } from '@oclif/core';
import { status, type LabStatus } from '../../src/lab/lab.js';

export default class LabStatusCommand extends Command {
  static override summary = 'List the labs on this machine and how many of their hosts run.';
  static override examples = ['<%= config.bin %> lab status', '<%= config.bin %> lab status --json'];
  static override enableJsonFlag = true;

  async run(): Promise<LabStatus[]> {
    await this.parse(LabStatusCommand);
    const labs = await status();
    if (labs.length === 0) this.log('no labs');
    for (const l of labs) {
      const where = l.outDir ? ` files in ${l.outDir}` : ' (no state: hactl lab down --all removes it)';
      this.log(
        `${l.id.padEnd(9)} ${l.health.padEnd(9)} ${String(l.running)}/${l.hosts} hosts ${l.subnet ?? ''}${where}`,
      );
    }
    return labs;
  }
}
