import { Flags } from '@oclif/core';
import { BaseCommand, EXIT, inventoryFlag, UserError } from '../src/ui/base-command.js';
import { sshConnector } from '../src/run/connector.js';
import { StatusSession } from '../src/status/session.js';
import { formatStatus, redraw, statusJson } from '../src/ui/status-view.js';

const seconds = Flags.custom<number>({
  parse: async (input) => {
    const n = Number(input);
    if (!Number.isFinite(n) || n < 0.2 || n > 3600)
      throw new Error(`--interval wants seconds between 0.2 and 3600, got "${input}"`);
    return n;
  },
});

export default class Status extends BaseCommand {
  static override summary =
    'Who is master of what: per VIP its holder(s) and configured master; per load balancer its VRRP state, keepalived and nginx.';
  static override description = `VRRP states come from keepalived itself (its data dump), else from the state hactl's notify script recorded, else (marked *) from whether the node has the VIP. One SSH connection per load balancer, kept open across --watch refreshes.

Exit codes: 0 every VIP has exactly one holder, 1 a VIP has no holder or more than one (split brain), 2 inventory or usage error. --watch runs until Ctrl-C and then exits 0.`;
  static override examples = [
    '<%= config.bin %> status --inventory inventory.yaml',
    '<%= config.bin %> status --inventory inventory.yaml --watch --interval 2',
    '<%= config.bin %> status --inventory inventory.yaml --json',
  ];
  static override flags = {
    inventory: inventoryFlag,
    watch: Flags.boolean({ char: 'w', description: 'Refresh in place until Ctrl-C.', default: false }),
    interval: seconds({ description: 'Seconds between --watch refreshes.', default: 1 }),
    json: Flags.boolean({
      description: 'Print a JSON document (with --watch: one per line, per refresh).',
      default: false,
    }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Status).catch((e: Error & { oclif?: { exit?: number } }) => {
      // A bad --interval value is a usage error (2), like an unknown flag, not a failed check (1).
      throw e.oclif?.exit === 2
        ? e
        : new UserError(e.message.replace(/\s*See more help with --help\s*$/, ''), EXIT.usage);
    });
    const inventory = this.loadInventory(flags.inventory);
    const session = new StatusSession(inventory, { connect: sshConnector() });
    const tty = Boolean(process.stdout.isTTY) && !flags.json;
    const show = (r: Awaited<ReturnType<StatusSession['refresh']>>, first: boolean) => {
      if (flags.json) this.log(JSON.stringify(statusJson(r), null, flags.watch ? undefined : 2));
      else if (flags.watch && tty) process.stdout.write((first ? '\u001b[2J' : '') + redraw(formatStatus(r)));
      else this.log(`${flags.watch && !first ? '\n' : ''}${formatStatus(r)}`);
    };
    try {
      if (!flags.watch) {
        const r = await session.refresh();
        show(r, true);
        if (!r.ok) process.exitCode = EXIT.failed;
        return;
      }
      const stop = new AbortController();
      const onSignal = () => stop.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      try {
        for (let first = true; !stop.signal.aborted; first = false) {
          const started = Date.now();
          // Ctrl-C during a slow refresh (a host timing out) ends at once; close() drops its channels.
          const r = await Promise.race([session.refresh(), aborted(stop.signal)]);
          if (!r || stop.signal.aborted) break;
          show(r, first);
          await sleep(Math.max(0, flags.interval * 1000 - (Date.now() - started)), stop.signal);
        }
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
      }
    } finally {
      await session.close();
    }
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

const aborted = (signal: AbortSignal) =>
  new Promise<undefined>((resolve) => signal.addEventListener('abort', () => resolve(undefined), { once: true }));
