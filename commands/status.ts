import { Flags } from '@oclif/core';
import { BaseCommand, EXIT, inventoryFlag } from '../src/cli/base-command.js';
import { UsageError } from '../src/errors.js';
import { StatusSession } from '../src/status/session.js';
import type { StatusReport } from '../src/status/status.js';
import { formatStatus, redraw, statusJson } from '../src/ui/status-view.js';
import { sleep } from '../src/util/sleep.js';

const seconds = Flags.custom<number>({
  parse: async (input) => {
    const n = Number(input);
    if (!Number.isFinite(n) || n < 0.2 || n > 3600)
      throw new UsageError(`--interval wants seconds between 0.2 and 3600, got "${input}"`);
    return n;
  },
});

export default class Status extends BaseCommand {
  static override summary =
    'Who is master of what: per VIP its holder(s) and configured master; per load balancer its VRRP state, keepalived and nginx.';
  static override description = `VRRP states come from keepalived itself (its data dump), else from the state hactl's notify script recorded, else (marked *) from whether the node has the VIP. One SSH connection per load balancer, kept open across --watch refreshes. Needs no secret.

Exit codes: 0 every VIP has exactly one holder, 1 a VIP has no holder or more than one (split brain) or its holder is unknown, 2 inventory or usage error. --watch runs until Ctrl-C and then exits 0; with --json it prints one document per refresh, one per line.`;
  static override examples = [
    '<%= config.bin %> status --inventory inventory.yaml',
    '<%= config.bin %> status --inventory inventory.yaml --watch --interval 2',
    '<%= config.bin %> status --inventory inventory.yaml --json',
  ];
  static override enableJsonFlag = true;
  static override flags = {
    inventory: inventoryFlag,
    watch: Flags.boolean({ char: 'w', description: 'Refresh in place until Ctrl-C.', default: false }),
    interval: seconds({ description: 'Seconds between --watch refreshes.', default: 1 }),
  };

  async run() {
    const { flags } = await this.parse(Status);
    const inventory = await this.loadInventory(flags.inventory, { requireSecrets: false, certificateDates: 'warning' });
    const ctx = await this.ctx();
    const session = new StatusSession(inventory, { connect: ctx.connect() });
    try {
      if (!flags.watch) {
        const r = await session.refresh();
        this.log(formatStatus(r));
        return this.finish(statusJson(r), r.ok ? EXIT.ok : EXIT.failed);
      }
      await this.watch(session, flags.interval, ctx.isTTY.stdout);
      return undefined;
    } finally {
      await session.close();
    }
  }

  /** Refreshes until Ctrl-C; a refresh in flight (a host timing out) is abandoned at once. */
  private async watch(session: StatusSession, interval: number, tty: boolean): Promise<void> {
    const json = this.jsonEnabled();
    const show = (r: StatusReport, first: boolean) => {
      if (json) process.stdout.write(`${JSON.stringify(statusJson(r))}\n`);
      else if (tty) process.stdout.write((first ? '\u001b[2J' : '') + redraw(formatStatus(r)));
      else this.log(`${first ? '' : '\n'}${formatStatus(r)}`);
    };
    const stop = new AbortController();
    const off = (await this.ctx()).onInterrupt(() => stop.abort());
    const aborted = new Promise<undefined>((resolve) =>
      stop.signal.addEventListener('abort', () => resolve(undefined), { once: true }),
    );
    try {
      for (let first = true; !stop.signal.aborted; first = false) {
        const started = Date.now();
        const r = await Promise.race([session.refresh(), aborted]);
        if (!r || stop.signal.aborted) break;
        show(r, first);
        await sleep(Math.max(0, interval * 1000 - (Date.now() - started)), stop.signal);
      }
    } finally {
      off();
    }
  }
}
