import { Flags } from '@oclif/core';
import { BaseCommand, EXIT, inventoryFlag } from '../src/cli/base-command.js';
import { RefusedError } from '../src/errors.js';
import { failoverTest, parseFaults } from '../src/failover/failover-test.js';
import { FAULT_KINDS } from '../src/failover/faults.js';
import { failoverJson, formatFailover, formatPreview } from '../src/ui/failover-view.js';

export default class FailoverTest extends BaseCommand {
  static override summary =
    'Break the master of a VIP on purpose, measure what clients saw, restore, and compare with what the configuration promises.';
  static override description = `Verifies the cluster first and refuses when it is unhealthy. Then, for each fault: probes the site through the VIP from this machine (each request on a new connection), injects the fault on the VIP's current holder over SSH, timestamps the VIP leaving it and appearing on the backup (polling every node every 50 ms), undoes the fault once the VIP is stable, measures the failback, and verifies again. The fault is undone on success, error, timeout and Ctrl-C.

Faults: stop-nginx (the health check must release the VIP), stop-keepalived (graceful), kill-keepalived (crash: SIGKILL), partition (iptables drops VRRP between the holder and its peers: split brain on purpose), all.

Bounds: crash and partition 3 × advert_int + skew, graceful stop the skew ((256 − backup priority) / 256 × advert_int), nginx death the check's interval × fall plus the VRRP time of its weight mode. Verdict: pass when the client-observed downtime is within the bound plus the stated margin (2 probe intervals + 300 ms).

Exit codes: 0 every fault passed, 1 a verdict failed, a restore failed, the cluster was unhealthy, or the test was not confirmed, 2 inventory or usage error (or refused: no terminal and no --yes), 130 interrupted (after restoring).`;
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
    const inventory = await this.loadInventory(flags.inventory, { requireSecrets: false });
    if (!flags.yes && !(await this.interactive()))
      throw new RefusedError(
        'failover-test breaks a live cluster on purpose and there is no terminal to confirm it: re-run with --yes',
      );
    const ctx = await this.ctx();
    const result = await this.interruptible((signal) =>
      failoverTest(inventory, {
        connect: ctx.connect(),
        http: ctx.http,
        ...(flags.vip ? { vip: flags.vip } : {}),
        faults: parseFaults(flags.fault),
        rate: flags.rate,
        signal,
        say: (l) => this.logToStderr(l),
        ...(flags.yes
          ? {}
          : {
              confirm: (preview) => this.confirm('Break it now?', formatPreview(preview), 'no terminal to confirm on'),
            }),
      }),
    );
    this.log(formatFailover(result));
    const code = result.ok ? EXIT.ok : result.aborted ? EXIT.interrupted : EXIT.failed;
    return this.finish(failoverJson(result), code);
  }
}
