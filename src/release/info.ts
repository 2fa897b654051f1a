/** The release a deploy records: one id for every host, who, when, hactl's version, the inventory's hash. */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { Inventory } from '../inventory/model.js';
import type { ReleaseInfo } from '../run/release-record.js';
import { newReleaseId } from './manifest.js';

export function releaseInfo(inv: Inventory, ctx: { now(): Date; who(): string }, version: string): ReleaseInfo {
  const now = ctx.now();
  let inventorySha = '-';
  try {
    inventorySha = createHash('sha256').update(readFileSync(inv.file)).digest('hex');
  } catch {
    // An inventory given as text (tests) has no file to hash.
  }
  return {
    id: newReleaseId(now),
    time: now.toISOString().replace(/\.\d+Z$/, 'Z'),
    who: ctx.who(),
    hactl: version,
    inventorySha,
    keep: inv.releases.keep,
  };
}
