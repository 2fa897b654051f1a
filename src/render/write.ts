/** Writes rendered files under DIR/<host>/<absolute path>, with their modes. */
import { chmodSync, existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { HactlError, UsageError } from '../errors.js';
import type { HostRender } from './render.js';

export function writeRenders(outDir: string, renders: HostRender[]): { host: string; file: string; mode: string }[] {
  if (existsSync(outDir) && !statSync(outDir).isDirectory())
    throw new UsageError(`--out ${outDir} is a file, not a directory: give a directory (it is created if missing)`);
  const written: { host: string; file: string; mode: string }[] = [];
  try {
    for (const r of renders)
      for (const f of r.files) {
        const target = join(outDir, r.lb.name, f.path);
        mkdirSync(dirname(target), { recursive: true });
        // A key's directory is as closed here as on the host.
        if (f.dirMode) chmodSync(dirname(target), parseInt(f.dirMode, 8));
        writeFileSync(target, f.content, { mode: parseInt(f.mode, 8) });
        chmodSync(target, parseInt(f.mode, 8));
        written.push({ host: r.lb.name, file: target, mode: f.mode });
      }
  } catch (e) {
    throw new HactlError(`cannot write under ${outDir}: ${(e as Error).message}`);
  }
  return written;
}
