/** Writes rendered files under DIR/<host>/<absolute path>, with their modes. */
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { HostRender } from './render.js';

export function writeRenders(outDir: string, renders: HostRender[]): { host: string; file: string; mode: string }[] {
  const written: { host: string; file: string; mode: string }[] = [];
  for (const r of renders)
    for (const f of r.files) {
      const target = join(outDir, r.lb.name, f.path);
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, f.content);
      chmodSync(target, parseInt(f.mode, 8));
      written.push({ host: r.lb.name, file: target, mode: f.mode });
    }
  return written;
}
