import { Flags } from '@oclif/core';
import { BaseCommand, EXIT, inventoryFlag } from '../src/cli/base-command.js';
import { allLbs } from '../src/inventory/model.js';
import { deploy } from '../src/run/deploy.js';
import { deployJson, formatCensus, formatPlans, formatResult } from '../src/ui/deploy-view.js';
import type { CensusReport } from '../src/verify/census.js';
import { releaseInfo } from '../src/release/info.js';
import { liveProgress, plainProgress } from '../src/ui/progress.js';

export default class Deploy extends BaseCommand {
  static override summary =
    'Push the HA configuration over SSH: install, render, validate, swap, reload, rolling; then verify.';
  static override description = `Reads every host's state first (one round trip each, under a per-host deploy lock) and changes nothing anywhere unless every host passes preflight. Then, per cluster, one load balancer at a time (backups first, masters last): install missing packages, set net.ipv4.ip_nonlocal_bind, swap the files atomically, validate with keepalived -t and nginx -t (restoring the previous files byte for byte on failure), reload only what changed, and wait until the host is healthy. Finally each VIP must have exactly one holder and each site must answer through its VIPs.

Before the first deploy of a cluster (no hactl configuration on its nodes yet) each load balancer listens for VRRP adverts for a few advert intervals, and the deploy refuses when a router outside the cluster already advertises one of its VRIDs, naming its address, the VRID and the priority heard (--force-vrid deploys anyway after asking).

Every deploy that changes a load balancer records a release there (hactl releases, hactl rollback).

Exit codes: 0 deployed (or nothing to do), 1 preflight, apply or verify failed, or the change was not confirmed, 2 inventory or usage error (or refused: no terminal and no --yes), 130 interrupted.`;
  static override examples = [
    '<%= config.bin %> deploy --inventory inventory.yaml --dry-run',
    '<%= config.bin %> deploy --inventory inventory.yaml --yes',
    '<%= config.bin %> deploy --inventory inventory.yaml --yes --json',
  ];
  static override enableJsonFlag = true;
  static override flags = {
    inventory: inventoryFlag,
    'dry-run': Flags.boolean({
      description: 'Show per host what would change, with diffs (secrets masked); change nothing.',
      default: false,
    }),
    yes: Flags.boolean({ char: 'y', description: 'Apply without asking for confirmation.', default: false }),
    diff: Flags.boolean({
      description: 'Show diffs in the plan (default on for --dry-run and the confirmation).',
      allowNo: true,
      default: true,
    }),
    concurrency: Flags.integer({ description: 'Hosts connected and inspected in parallel.', default: 32, min: 1 }),
    verbose: Flags.boolean({ char: 'v', description: 'Print every step.', default: false }),
    'force-vrid': Flags.boolean({
      description:
        'Deploy even when the VRID census heard a router outside the cluster advertising one of its VRIDs (asks first, unless --yes).',
      default: false,
    }),
  };

  async run() {
    const { flags } = await this.parse(Deploy);
    const inventory = await this.loadInventory(flags.inventory);
    const ctx = await this.ctx();
    // The SSH lookups run while deploy renders and the progress display starts.
    const connect = ctx.connect();
    await connect.warm?.(allLbs(inventory).map(({ lb }) => lb));
    const json = this.jsonEnabled();
    const hosts = allLbs(inventory).map(({ cluster, lb }) => ({ host: lb.name, cluster: cluster.name }));
    const live = (await this.interactive()) && !flags['dry-run'];
    const progress = live ? await liveProgress(hosts) : plainProgress((l) => this.logToStderr(l), flags.verbose);
    const release = releaseInfo(inventory, ctx, this.config.version);
    const result = await this.interruptible((signal) =>
      deploy(inventory, {
        connect,
        http: ctx.http,
        dryRun: flags['dry-run'],
        concurrency: flags.concurrency,
        signal,
        holder: `${ctx.who()} (hactl pid ${process.pid}) since ${ctx.now().toISOString()}`,
        onEvent: (e) => progress.onEvent(e),
        release,
        census: {
          force: flags['force-vrid'],
          ...(flags.yes ? {} : { confirm: (reports) => this.confirmCollision(reports, progress) }),
        },
        ...(flags.yes
          ? {}
          : {
              confirm: async (plans) => {
                await progress.finish();
                return this.confirm(
                  'Apply these changes?',
                  formatPlans(plans, flags.diff),
                  'changes are needed but there is no terminal to confirm them: re-run with --yes (or --dry-run to see them)',
                );
              },
            }),
      }),
    );
    await progress.finish();
    if (!json) {
      if (flags['dry-run'] || result.phase === 'preflight')
        this.log(formatPlans(result.plans, flags.diff && flags['dry-run']));
      this.log(formatResult(result));
    }
    return this.finish(deployJson(result), result.ok ? EXIT.ok : result.aborted ? EXIT.interrupted : EXIT.failed);
  }

  /** --force-vrid: the operator sees what the census heard and says yes before the deploy goes on. */
  private async confirmCollision(reports: CensusReport[], progress: { finish(): Promise<void> }): Promise<boolean> {
    await progress.finish();
    return this.confirm(
      'Another router uses these VRIDs on the segment. Deploy anyway?',
      formatCensus(reports).join('\n'),
      'the VRID census found a collision and there is no terminal to confirm --force-vrid: add --yes',
    );
  }
}
