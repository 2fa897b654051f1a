import { Flags } from '@oclif/core';
import { BaseCommand, EXIT } from '../../src/cli/base-command.js';
import { buildImages } from '../../src/lab/image-cache.js';
import { RELEASE_IDS, type ReleaseId } from '../../src/lab/releases.js';
import type { ImageKind } from '../../src/lab/image-plan.js';

const KINDS: ImageKind[] = ['base', 'preinstalled', 'prefix', 'prefix-preinstalled'];

export default class LabBuildImages extends BaseCommand {
  static override summary = 'Build (or find in the cache) the images lab hosts boot from, and report their times.';
  static override description = `lab up builds what it needs on demand; this builds ahead (for CI, or before timing anything) and prints, per image, whether it was built now and how long that took (debootstrap, the package repository, the whole build), with the versions of OpenSSH, keepalived and nginx it holds and whether their init scripts are there. Needs Linux and root.

Exit codes: 0 every image is ready, 1 a build failed (or this machine cannot build: not root, a missing prerequisite), 2 usage error.`;

  static override examples = [
    '<%= config.bin %> lab build-images',
    '<%= config.bin %> lab build-images --os debian-13 --kind base --kind prefix',
  ];

  static override enableJsonFlag = true;

  static override flags = {
    os: Flags.string({ description: 'Release (repeatable). Default: all.', options: RELEASE_IDS, multiple: true }),
    kind: Flags.string({
      description: 'Image kind (repeatable). Default: base and preinstalled.',
      options: KINDS,
      multiple: true,
    }),
  };

  async run() {
    const { flags } = await this.parse(LabBuildImages);
    const releases = (flags.os ?? RELEASE_IDS) as ReleaseId[];
    const kinds = (flags.kind ?? ['base', 'preinstalled']) as ImageKind[];
    const built = await buildImages(releases, kinds, (m) => this.logToStderr(m));
    for (const b of built) this.log(b.line);
    return this.finish({ ok: true, images: built }, EXIT.ok);
  }
}
