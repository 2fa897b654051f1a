import { BaseCommand, EXIT, inventoryFlag } from '../src/cli/base-command.js';
import { readReleases, releaseViews } from '../src/release/rollback.js';
import { formatReleases, releasesJson } from '../src/ui/releases-view.js';

export default class Releases extends BaseCommand {
  static override summary = 'The releases recorded on the load balancers, per cluster: id, when, who, hosts, current.';
  static override description = `Every deploy that changes a load balancer records a release on it (/var/lib/hactl/releases/<id>, root only: the files hactl manages, their modes, the inventory's hash, who deployed, when, hactl's version). This reads them from the hosts themselves, one SSH exec each, and says where hosts disagree: a host missing a release the others have (a failed rollout, a directory removed by hand), or on another release than the cluster. Never prints a file's contents. Needs no secret.

Exit codes: 0 the hosts agree, 1 they disagree or one could not be read, 2 inventory or usage error.`;
  static override examples = [
    '<%= config.bin %> releases --inventory inventory.yaml',
    '<%= config.bin %> releases --inventory inventory.yaml --json',
  ];
  static override enableJsonFlag = true;
  static override flags = { inventory: inventoryFlag };

  async run() {
    const { flags } = await this.parse(Releases);
    const inventory = await this.loadInventory(flags.inventory, { requireSecrets: false });
    const ctx = await this.ctx();
    const views = releaseViews(inventory, await readReleases(inventory, ctx.connect()));
    this.log(formatReleases(views));
    const doc = releasesJson(views);
    return this.finish(doc, doc.ok ? EXIT.ok : EXIT.failed);
  }
}
