/**
 * How a host's recorded drain state enters what hactl renders and checks: drained backends
 * are rendered `down` (so deploy and verify agree with `hactl drain --backend`), and a drained
 * node is expected out of every election.
 */
import type { HostFacts } from '../remote/facts.js';
import type { RenderOptions } from '../render/render.js';

/** The render options that keep this host's drained backends drained. */
export function drainedOn(facts: Pick<HostFacts, 'drain'>): RenderOptions {
  const names = facts.drain?.backends.map((b) => b.name) ?? [];
  return names.length ? { drainedBackends: new Set(names) } : {};
}
