import { Flags } from '@oclif/core';
import { BaseCommand, EXIT, inventoryFlag } from '../src/cli/base-command.js';
import { RefusedError } from '../src/errors.js';
import { failoverTest, parseClients, parseFaults } from '../src/failover/failover-test.js';
import { FAULT_KINDS } from '../src/failover/faults.js';
import { undoLeftovers } from '../src/failover/undo.js';
import { failoverJson, formatFailover, formatPreview, formatUndo, undoJson } from '../src/ui/failover-view.js';

export default class FailoverTest extends BaseCommand {
  static override summary =
    'Break the master of a VIP on purpose, measure what clients saw, restore, and compare with what the configuration promises.';
  static override description = `Verifies the cluster first and refuses when it is unhealthy. Then, for each fault: probes the site through the VIP from this machine, injects the fault on the VIP's current holder over SSH, timestamps the VIP leaving it and appearing on the backup (polling every node every 50 ms), undoes the fault once the VIP is stable, measures the failback, and verifies again. The fault is undone on success, error, timeout and Ctrl-C.

Every fault also undoes itself: in the same exec that injects it, hactl first starts a watchdog on the host, detached from the SSH session, that runs the fault's undo after the maximum fault time (3 × the fault's bound + 10 s, at most 120 s; --max-fault-seconds) unless hactl's own undo cancelled it. So a killed hactl, a sleeping laptop or a cut connection leaves the fault in place for at most that long. Its record (what, when, by whom) is in /run/hactl/faults on the host; verify and status report it. --undo undoes every fault hactl left on every load balancer of the inventory, now.

Faults: stop-nginx (the health check must release the VIP), stop-keepalived (graceful), kill-keepalived (crash: SIGKILL), partition (iptables drops VRRP between the holder and its peers: split brain on purpose), isolate (the holder drops all traffic except loopback and hactl's own SSH session: a dead host), freeze (SIGSTOP keepalived and nginx: a hung host), all.

Probes (--probe): new (a connection per request, each sees where the VIP is now), keepalive (4 persistent connections, as browsers and API clients use: they see resets or hangs of connections already open; a request on a reused connection closed before any answer is retried once, as HTTP allows), or both; each at --rate. Only hactl's probes carry the probe token, so only they learn which load balancer answered.

Bounds: crash, partition, isolate and freeze 3 × advert_int + skew, graceful stop the skew ((256 − backup priority) / 256 × advert_int), nginx death the check's interval × fall plus the VRRP time of its weight mode. Verdict: pass when the client-observed downtime (new connections when probed, else keep-alive) is within the bound plus the stated margin (2 probe intervals + 300 ms).

Exit codes: 0 every fault passed (--undo: nothing of hactl's left), 1 a verdict failed, a restore failed, the cluster was unhealthy, or the test was not confirmed (--undo: something could not be undone or a host not reached), 2 inventory or usage error (or refused: no terminal and no --yes), 130 interrupted (after restoring).`;
  static override examples = [
    '<%= config.bin %> failover-test --inventory inventory.yaml',
    '<%= config.bin %> failover-test --inventory inventory.yaml --fault all --probe both --yes',
    '<%= config.bin %> failover-test --inventory inventory.yaml --vip web/vip1 --fault isolate --rate 50 --yes --json',
    '<%= config.bin %> failover-test --inventory inventory.yaml --fault freeze --max-fault-seconds 30 --yes',
    '<%= config.bin %> failover-test --inventory inventory.yaml --undo',
  ];
  static override enableJsonFlag = true;
  static override flags = {
    inventory: inventoryFlag,
    vip: Flags.string({
      description: 'VIP to test, NAME or CLUSTER/NAME. Default: the first VIP of the first cluster.',
    }),
    fault: Flags.string({ description: 'Fault to inject.', options: [...FAULT_KINDS, 'all'], default: 'stop-nginx' }),
    rate: Flags.integer({
      description: 'Probe requests per second through the VIP, per client kind.',
      default: 20,
      min: 1,
      max: 200,
    }),
    probe: Flags.string({
      description: 'Clients probing through the VIP: new connections, keep-alive connections, or both.',
      options: ['new', 'keepalive', 'both'],
      default: 'new',
    }),
    'max-fault-seconds': Flags.integer({
      description:
        "Seconds after which each fault's watchdog undoes it by itself if hactl has not. Default: 3 × the fault's bound + 10 s, at most 120 s.",
      min: 5,
      max: 600,
    }),
    undo: Flags.boolean({
      description:
        'Inject nothing: undo every fault hactl left on every load balancer of the inventory (idempotent) and say what was found.',
      default: false,
      exclusive: ['fault', 'vip', 'rate', 'probe', 'max-fault-seconds'],
    }),
    yes: Flags.boolean({ char: 'y', description: 'Run without asking for confirmation.', default: false }),
  };

  async run() {
    const { flags } = await this.parse(FailoverTest);
    const inventory = await this.loadInventory(flags.inventory, { requireSecrets: false });
    const ctx = await this.ctx();
    if (flags.undo) {
      // Undoing only restores: no confirmation.
      const r = await undoLeftovers(inventory, { connect: ctx.connect() });
      this.log(formatUndo(r));
      return this.finish(undoJson(r), r.ok ? EXIT.ok : EXIT.failed);
    }
    if (!flags.yes && !(await this.interactive()))
      throw new RefusedError(
        'failover-test breaks a live cluster on purpose and there is no terminal to confirm it: re-run with --yes',
      );
    const result = await this.interruptible((signal) =>
      failoverTest(inventory, {
        connect: ctx.connect(),
        http: ctx.http,
        ...(ctx.keepAliveHttp ? { keepAliveHttp: ctx.keepAliveHttp } : {}),
        ...(flags.vip ? { vip: flags.vip } : {}),
        faults: parseFaults(flags.fault),
        clients: parseClients(flags.probe),
        rate: flags.rate,
        signal,
        operator: ctx.who(),
        ...(flags['max-fault-seconds'] ? { maxFaultSeconds: flags['max-fault-seconds'] } : {}),
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
