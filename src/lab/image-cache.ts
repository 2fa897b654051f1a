/**
 * The image cache as a whole: what is in it (`hactl lab build-images` reports it) and
 * removing it (`hactl lab clean-cache`), which is refused while a lab boots from it. A lab
 * that is starting holds the cache lock shared, so clean-cache (exclusive) waits for it, and
 * then sees its lab.json.
 */
import { existsSync } from 'node:fs';
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { holdLock } from './cache-lock.js';
import { cacheRoot, imageName, lockFile, type ImageKind } from './image-plan.js';
import { ensureImage } from './images.js';
import type { ReleaseId } from './releases.js';
import { labIdsOnDisk, readLabById, stateDirOf } from './state.js';
import { RefusedError } from '../errors.js';

/** Labs on this machine that boot from cached images (or are being created and may). */
export async function labsUsingCache(root = cacheRoot()): Promise<string[]> {
  const users: string[] = [];
  const under = (p: string) => p === root || p.startsWith(`${root}/`);
  for (const id of await labIdsOnDisk()) {
    const state = await readLabById(id);
    if (state) {
      // Only labs booted from this cache (another HACTL_LAB_CACHE_DIR is another cache).
      if (Object.values(state.images ?? {}).some((i) => under(i.root))) users.push(id);
      continue;
    }
    const dir = stateDirOf(id);
    const young = existsSync(dir) && Date.now() - (await stat(dir)).mtimeMs < 120_000;
    if (young) users.push(id);
  }
  return users;
}

/** clean-cache declined: a lab boots from the cache (exit 2, like every refusal). */
export class CacheInUse extends RefusedError {
  override name = 'CacheInUse';
}

/** Removes every image and repository (all cache versions); keeps the lock file others may be waiting on. */
export async function cleanCache(): Promise<{ removed: string[]; root: string }> {
  const root = cacheRoot();
  if (!existsSync(root)) return { removed: [], root };
  const release = await holdLock('exclusive', 120);
  try {
    const users = await labsUsingCache(root);
    if (users.length > 0)
      throw new CacheInUse(
        `the image cache ${root} is in use by lab(s) ${users.join(', ')}: remove them first (hactl lab down --dir DIR, or hactl lab down --all)`,
      );
    const entries = (await readdir(root)).filter((e) => join(root, e) !== lockFile());
    for (const e of entries) await rm(join(root, e), { recursive: true, force: true });
    return { removed: entries.map((e) => join(root, e)), root };
  } finally {
    await release();
  }
}

export interface BuiltImage {
  name: string;
  built: boolean;
  /** Wall time of this call for the image (0 when it came from the cache). */
  wallMs: number;
  marker: Record<string, string>;
  line: string;
}

function builtLine(name: string, built: boolean, wallMs: number, m: Record<string, string>): string {
  const t = (v?: string) => `${(Number(v ?? 0) / 1000).toFixed(1)} s`;
  const times = built
    ? `built in ${t(String(wallMs))}${m.debootstrap_ms ? ` (debootstrap ${t(m.debootstrap_ms)}, repository ${t(m.repo_ms)})` : ''}`
    : 'cached';
  const what = [
    m.openssh && `OpenSSH ${m.openssh}`,
    m.keepalived && `keepalived ${m.keepalived}`,
    m.nginx && `nginx ${m.nginx}`,
    m.nginx_binary_version && `nginx ${m.nginx_binary_version} (binary under /application/nginx)`,
    m.init_keepalived && `init.d: keepalived ${m.init_keepalived}, nginx ${m.init_nginx}`,
    m.repo_packages && `repository ${m.repo_packages} packages`,
  ].filter(Boolean);
  return `${name.padEnd(30)} ${times}; ${what.join(', ')}`;
}

/** Every (release, kind) image, in that order; each line says whether it was built now and how long that took. */
export async function buildImages(
  releases: ReleaseId[],
  kinds: ImageKind[],
  progress: (m: string) => void,
): Promise<BuiltImage[]> {
  const out: BuiltImage[] = [];
  for (const release of releases)
    for (const kind of kinds) {
      const t = performance.now();
      const info = await ensureImage({ release, kind }, { onProgress: progress });
      const wallMs = info.built ? Math.round(performance.now() - t) : 0;
      const name = imageName(info);
      out.push({
        name,
        built: info.built,
        wallMs,
        marker: info.marker,
        line: builtLine(name, info.built, wallMs, info.marker),
      });
    }
  return out;
}
