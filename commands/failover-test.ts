import { Flags } from '@oclif/core';
import { BaseCommand, EXIT, UserError, inventoryFlag } from '../src/ui/base-command.js';
import { sshConnector } from '../src/run/connector.js';
import { withInterrupt } from '../src/ui/interrupt.js';
import { failoverTest, parseFaults } from '../src/failover/failover-test.js';
import { FAULT_KINDS } from '../src/failover/faults.js';
import { failoverJson, formatFailover, formatPreview } from '../src/ui/failover-view.js';

export default class FailoverTest extends BaseCommand {
  static override summary =
    'Break the master of a VIP on purpose, measure what clients saw, restore, and compare with what the configuration promises.';
  static override description = `Verifies the cluster first and refuses when it is unhealthy. Then, for each fault: probes the site through the VIP from this machine (each request on a new connection), injects the fault on the VIP's current holder over SSH, timestamps the VIP leaving it and appearing on the backup (polling every node every 50 ms), undoes the fault once the VIP is stable, measures the failback, and verifies again. The fault is undone on success, error, timeout and Ctrl-C.

Faults: stop-nginx (the health check must release the VIP), stop-keepalived (graceful), kill-keepalived (crash: SIGKILL), partition (iptables drops VRRP between the holder and its peers: split brain on purpose), all.

Bounds: crash and partition 3 × advert_int + skew, graceful stop the skew ((256 − backup priority) / 256 × advert_int), nginx death the check's interval × fall plus the VRRP time of its weight mode. Verdict: pass when the client-observed downtime is within the bound plus the stated margin (2 probe intervals + 300 ms).

Exit codes: 0 every fault passed (or cancelled at the prompt), 1 a verdict failed, a restore failed or the cluster was unhealthy, 2 inventory or usage error (or refused: no terminal and no --yes), 130 interrupted (after restoring).`;
  static override examples = [
    '<%= config.bin %> failover-test --inventory inventory.yaml',
    '<%= config.bin %> failover-test --inventory inventory.yaml --fault all --yes',
    '<%= config.bin %> failover-test --inventory inventory.yaml --vip web/vip1 --fault kill-keepalived --rate 50 --yes --json',
  ];
  static override enableJsonFlag = true;
  static override flags = {
    inventory: inventoryFlag,
    vip: Flags.string({
      description: 'VIP to test, NAME or CLUSTER/NAME. Default: the first VIP of the first cluster.',
    }),
    fault: Flags.string({ description: 'Fault to inject.', options: [...FAULT_KINDS, 'all'], default: 'stop-nginx' }),
    rate: Flags.integer({ description: 'Probe requests per second through the VIP.', default: 20, min: 1, max: 200 }),
    yes: Flags.boolean({ char: 'y', description: 'Run without asking for confirmation.', default: false }),
  };

  async run() {
    const { flags } = await this.parse(FailoverTest);
    const inventory = this.loadInventory(flags.inventory);
    const json = this.jsonEnabled();
    const tty = Boolean(process.stdout.isTTY && process.stdin.isTTY);
    if (!flags.yes && (!tty || json))
      throw new UserError(
        'failover-test breaks a live cluster on purpose and there is no terminal to confirm it: re-run with --yes',
        EXIT.usage,
      );
    const result = await withInterrupt(
      (signal) =>
        failoverTest(inventory, {
          connect: sshConnector(),
          vip: flags.vip,
          faults: parseFaults(flags.fault),
          rate: flags.rate,
          signal,
          say: (l) => (json ? undefined : this.logToStderr(l)),
          confirm: flags.yes
            ? undefined
            : async (preview) => {
                this.log(formatPreview(preview));
                const { default: inquirer } = await import('inquirer');
                const { go } = await inquirer.prompt([
                  { type: 'confirm', name: 'go', message: 'Break it now?', default: false },
                ]);
                return go as boolean;
              },
        }),
      (l) => this.logToStderr(l),
    ).catch((e: Error) => {
      throw e instanceof UserError
        ? e
        : new UserError(
            e.message,
            /no VIP named|unknown fault|no site is served|no backup node/.test(e.message) ? EXIT.usage : EXIT.failed,
          );
    });
    const out = failoverJson(result);
    if (!json) this.log(formatFailover(result));
    if (!result.ok && result.phase !== 'cancelled') {
      if (json) this.logJson(out);
      this.exit(result.aborted ? EXIT.interrupted : EXIT.failed);
    }
    return out;
  }
}
