/**
 * Building and finding the lab's images (layout and contents: image-plan.ts; the build
 * scripts: image-scripts.ts). An image is used only when its image.json marker is there;
 * anything else at its path is a half-built leftover the next build replaces.
 */
import { readFile } from 'node:fs/promises';
import { runExclusive } from './cache-lock.js';
import { CACHE_VERSION, imageName, imagePaths, type ImagePaths, type ImageRef } from './image-plan.js';
import { baseBuildScript, derivedBuildScript } from './image-scripts.js';
import { machineMirror, type Mirror } from './mirror.js';

export interface ImageInfo extends ImageRef {
  paths: ImagePaths;
  /** image.json: versions, init scripts, build times (all strings, as the build script wrote them). */
  marker: Record<string, string>;
  /** True when this call built it (false: it came from the cache). */
  built: boolean;
}

export interface EnsureOptions {
  mirror?: Mirror;
  onProgress?: (message: string) => void;
}

/** The marker of a complete image of this cache version, or undefined. */
export async function readMarker(ref: ImageRef): Promise<Record<string, string> | undefined> {
  try {
    const m = JSON.parse(await readFile(imagePaths(ref).marker, 'utf8')) as Record<string, string>;
    const ok = m.cacheVersion === CACHE_VERSION && m.release === ref.release && m.kind === ref.kind;
    return ok ? m : undefined;
  } catch {
    return undefined;
  }
}

function buildCommand(ref: ImageRef, mirror: Mirror): string[] {
  // Base builds download (debootstrap, apt); derived ones install from the lab repository
  // only, so they also get no network at all.
  const script = ref.kind === 'base' ? baseBuildScript(ref, mirror) : derivedBuildScript({ ...ref, kind: ref.kind });
  const net = ref.kind === 'base' ? [] : ['--net'];
  return ['unshare', '--mount', '--propagation', 'private', ...net, 'bash', '-c', script];
}

async function build(ref: ImageRef, opts: EnsureOptions): Promise<boolean> {
  const mirror = opts.mirror ?? machineMirror();
  const env = { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', LANG: 'C.UTF-8' };
  const r = await runExclusive(buildCommand(ref, mirror), { waitS: 1200, env });
  const last = r.output.trim().split('\n').pop() ?? '';
  if (r.exitCode !== 0 || !last.startsWith('hactl-image: ')) {
    const tail = r.output.trim().split('\n').slice(-25).join('\n');
    throw new Error(`building the ${imageName(ref)} image failed (exit ${r.exitCode}):\n${tail}`);
  }
  return last === 'hactl-image: built';
}

/** The image, from the cache or built now (its base first). */
export async function ensureImage(ref: ImageRef, opts: EnsureOptions = {}): Promise<ImageInfo> {
  const paths = imagePaths(ref);
  const cached = await readMarker(ref);
  if (cached) return { ...ref, paths, marker: cached, built: false };
  if (ref.kind !== 'base') await ensureImage({ release: ref.release, kind: 'base' }, opts);
  opts.onProgress?.(`building the ${imageName(ref)} image in ${paths.dir} (once; later labs reuse it)`);
  const built = await build(ref, opts);
  const marker = await readMarker(ref);
  if (!marker) throw new Error(`the ${imageName(ref)} image build ended without ${paths.marker}`);
  if (built) opts.onProgress?.(`built ${imageName(ref)} in ${(Number(marker.build_ms) / 1000).toFixed(1)} s`);
  return { ...ref, paths, marker, built };
}

/** Every image in `refs`, one build at a time (each takes the lock itself). */
export async function ensureImages(refs: ImageRef[], opts: EnsureOptions = {}): Promise<Map<string, ImageInfo>> {
  const out = new Map<string, ImageInfo>();
  for (const ref of refs) {
    const name = imageName(ref);
    if (!out.has(name)) out.set(name, await ensureImage(ref, opts));
  }
  return out;
}
