/**
 * `hactl failover-test --undo`: on every load balancer of the inventory, in one exec each and
 * in parallel, read what failover-test left, undo it (every fault record through its own undo,
 * then any rule with hactl's comment), and read again. Idempotent: a clean host is read twice
 * and nothing else happens.
 */
import type { Inventory } from '../inventory/model.js';
import { gather } from '../remote/section.js';
import {
  isEmpty,
  leftoversSection,
  undoFaultsSection,
  type FaultLeftovers,
  type UndoActions,
} from '../remote/sections/faults.js';
import type { LbConnector } from '../transport/transport.js';
import { describeLeftovers } from './leftovers.js';

export interface HostUndo {
  cluster: string;
  host: string;
  /** Absent when the host could not be reached or the script failed. */
  before?: FaultLeftovers;
  actions?: UndoActions;
  after?: FaultLeftovers;
  error?: string;
  /** What was found, in words (describeLeftovers of before). */
  found: string[];
  /** What is still there afterwards, in words. */
  remaining: string[];
}

export interface UndoResult {
  /** Every host reached and clean afterwards. */
  ok: boolean;
  hosts: HostUndo[];
}

export async function undoLeftovers(
  inv: Inventory,
  o: { connect: LbConnector; timeoutMs?: number },
): Promise<UndoResult> {
  const sections = [
    leftoversSection('hactl-faults-before'),
    undoFaultsSection,
    leftoversSection('hactl-faults-after'),
  ] as const;
  const hosts = await Promise.all(
    inv.clusters.flatMap((cluster) =>
      cluster.lbs.map(async (lb): Promise<HostUndo> => {
        const base = { cluster: cluster.name, host: lb.name };
        try {
          const t = await o.connect(lb);
          try {
            const [before, actions, after] = await gather(t, sections, {
              step: 'undo faults',
              timeoutMs: o.timeoutMs ?? 90_000,
            });
            return {
              ...base,
              before,
              actions,
              after,
              found: describeLeftovers(before),
              remaining: describeLeftovers(after),
            };
          } finally {
            await t.close().catch(() => undefined);
          }
        } catch (e) {
          return { ...base, error: (e as Error).message, found: [], remaining: [] };
        }
      }),
    ),
  );
  // A process someone else froze is reported but is not hactl's to fail on.
  const clean = (l: FaultLeftovers | undefined) => l !== undefined && isEmpty({ ...l, frozen: [] });
  return { ok: hosts.every((h) => clean(h.after)), hosts };
}
