import { BaseCommand, EXIT } from '../../src/cli/base-command.js';
import { cleanCache } from '../../src/lab/image-cache.js';

export default class LabCleanCache extends BaseCommand {
  static override summary = 'Remove the cached lab images and package repositories.';
  static override description = `Removes everything under /var/cache/hactl-lab (HACTL_LAB_CACHE_DIR): every release's root file systems and package repository, of every cache version. The next hactl lab up builds what it needs again. Refused while a lab on this machine boots from the cache: remove those labs first with hactl lab down.

Exit codes: 0 removed (or nothing cached), 1 failed, 2 usage error or refused (a lab uses the cache).`;

  static override examples = ['<%= config.bin %> lab clean-cache'];
  static override enableJsonFlag = true;

  async run() {
    await this.parse(LabCleanCache);
    const result = await cleanCache();
    this.log(result.removed.length > 0 ? `removed ${result.removed.join(', ')}` : `nothing cached in ${result.root}`);
    return this.finish({ ok: true, ...result }, EXIT.ok);
  }
}
