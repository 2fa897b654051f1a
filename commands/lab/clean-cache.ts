import { Command } from '@oclif/core';
import { CacheInUse, cleanCache } from '../../src/lab/image-cache.js';

export default class LabCleanCache extends Command {
  static override summary = 'Remove the cached lab images and package repositories.';
  static override description = `Removes everything under /var/cache/hactl-lab (HACTL_LAB_CACHE_DIR): every release's root
file systems and package repository, of every cache version. The next hactl lab up builds what
it needs again. Refused (exit 1) while a lab on this machine boots from the cache: remove those
labs first with hactl lab down.`;

  static override examples = ['<%= config.bin %> lab clean-cache'];
  static override enableJsonFlag = true;

  async run(): Promise<{ removed: string[]; root: string }> {
    await this.parse(LabCleanCache);
    try {
      const result = await cleanCache();
      this.log(result.removed.length > 0 ? `removed ${result.removed.join(', ')}` : `nothing cached in ${result.root}`);
      return result;
    } catch (err) {
      if (err instanceof CacheInUse) this.error(err.message, { exit: 1 });
      throw err;
    }
  }
}
