import { Flags } from '@oclif/core';
import { BaseCommand, EXIT, inventoryFlag } from '../src/cli/base-command.js';
import { RELEASE_ID } from '../src/release/manifest.js';
import { rollback } from '../src/release/rollback.js';
import { UsageError } from '../src/errors.js';
import { deployJson, formatPlans, formatResult } from '../src/ui/deploy-view.js';
import { liveProgress, plainProgress } from '../src/ui/progress.js';
import { allLbs } from '../src/inventory/model.js';

export default class Rollback extends BaseCommand {
  static override summary =
    "Go back to a release: re-apply its files through deploy's rolling, validated, restoring path.";
  static override description = `Reads every load balancer's releases, then works as deploy does: under the per-host deploy lock it reads the release's files (checked against their recorded hashes), shows the plan with diffs (secrets masked), asks, and rolls out one load balancer at a time (backups first), validating with keepalived -t and nginx -t and restoring the previous files on failure; then the post-deploy checks. Default: the release before each cluster's current one. A host that cannot go back (its release directory is gone, or its keepalived or nginx no longer has what the release was rendered for) fails before anything changes anywhere. A later hactl deploy with the current inventory shows the rollback as drift to undo.

Exit codes: 0 rolled back (or nothing to do), 1 preflight, apply or verify failed, or not confirmed, 2 inventory or usage error (or refused: no terminal and no --yes), 130 interrupted.`;
  static override examples = [
    '<%= config.bin %> rollback --inventory inventory.yaml --dry-run',
    '<%= config.bin %> rollback --inventory inventory.yaml --yes',
    '<%= config.bin %> rollback --inventory inventory.yaml --to 20261201T101500Z-3fa2 --yes --json',
  ];
  static override enableJsonFlag = true;
  static override flags = {
    inventory: inventoryFlag,
    to: Flags.string({
      description: 'The release to go back to (hactl releases lists them). Default: the previous one.',
    }),
    'dry-run': Flags.boolean({
      description: 'Show per host what would change, with diffs; change nothing.',
      default: false,
    }),
    yes: Flags.boolean({ char: 'y', description: 'Apply without asking for confirmation.', default: false }),
    diff: Flags.boolean({ description: 'Show diffs in the plan.', allowNo: true, default: true }),
    concurrency: Flags.integer({ description: 'Hosts connected and inspected in parallel.', default: 32, min: 1 }),
    verbose: Flags.boolean({ char: 'v', description: 'Print every step.', default: false }),
  };

  async run() {
    const { flags } = await this.parse(Rollback);
    if (flags.to !== undefined && !RELEASE_ID.test(flags.to))
      throw new UsageError(`--to ${flags.to}: a release id looks like 20261201T101500Z-3fa2 (see hactl releases)`);
    const inventory = await this.loadInventory(flags.inventory, { requireSecrets: false });
    const ctx = await this.ctx();
    const hosts = allLbs(inventory).map(({ cluster, lb }) => ({ host: lb.name, cluster: cluster.name }));
    const live = (await this.interactive()) && !flags['dry-run'];
    const progress = live ? await liveProgress(hosts) : plainProgress((l) => this.logToStderr(l), flags.verbose);
    const result = await this.interruptible((signal) =>
      rollback(inventory, {
        connect: ctx.connect(),
        http: ctx.http,
        dryRun: flags['dry-run'],
        concurrency: flags.concurrency,
        signal,
        holder: `${ctx.who()} (hactl rollback pid ${process.pid}) since ${ctx.now().toISOString()}`,
        who: ctx.who(),
        keep: inventory.releases.keep,
        ...(flags.to ? { to: flags.to } : {}),
        onEvent: (e) => progress.onEvent(e),
        ...(flags.yes
          ? {}
          : {
              confirm: async (plans) => {
                await progress.finish();
                return this.confirm(
                  'Roll back with these changes?',
                  formatPlans(plans, flags.diff),
                  'changes are needed but there is no terminal to confirm them: re-run with --yes (or --dry-run to see them)',
                );
              },
            }),
      }),
    );
    await progress.finish();
    if (!this.jsonEnabled()) {
      this.logToStderr(result.targets.map((t) => `cluster ${t.cluster}: back to release ${t.to}`).join('\n'));
      if (flags['dry-run'] || result.phase === 'preflight')
        this.log(formatPlans(result.plans, flags.diff && flags['dry-run']));
      this.log(formatResult(result));
    }
    const doc = { ...deployJson(result), targets: result.targets };
    return this.finish(doc, result.ok ? EXIT.ok : result.aborted ? EXIT.interrupted : EXIT.failed);
  }
}
