/**
 * The images a lab's hosts boot from: built or found in the cache, then held (the cache lock,
 * shared) until the lab's state records them, so `hactl lab clean-cache` cannot remove an
 * image under a lab that is starting.
 */
import { holdLock } from './cache-lock.js';
import { imageName, imagePaths, type ImageRef } from './image-plan.js';
import { ensureImages, readMarker } from './images.js';
import type { LabPlan, LabState } from './types.js';

export interface LabImages {
  images: LabState['images'];
  /** Ends the shared hold on the cache. */
  release: () => Promise<void>;
}

export function imageRefs(plan: Pick<LabPlan, 'hosts'>): ImageRef[] {
  const seen = new Map<string, ImageRef>();
  for (const h of plan.hosts)
    seen.set(imageName({ release: h.release, kind: h.image }), { release: h.release, kind: h.image });
  return [...seen.values()];
}

export async function prepareImages(plan: LabPlan, progress: (m: string) => void): Promise<LabImages> {
  const refs = imageRefs(plan);
  const infos = await ensureImages(refs, { onProgress: progress });
  const release = await holdLock('shared', 600);
  try {
    const images: LabState['images'] = {};
    for (const ref of refs) {
      const marker = await readMarker(ref);
      if (!marker) throw new Error(`the ${imageName(ref)} image was removed while the lab started (clean-cache?)`);
      const p = imagePaths(ref);
      images[imageName(ref)] = { root: p.root, repo: p.repo, built: infos.get(imageName(ref))?.built ?? false, marker };
    }
    return { images, release };
  } catch (err) {
    await release();
    throw err;
  }
}
