/**
 * What drain and undrain share: the LB argument or --backend, loading the inventory, the
 * confirmation that --force needs, and one JSON document. The core is src/drain.
 */
import { Args, Flags } from '@oclif/core';
import { drainBackend, type BackendDrainResult } from '../drain/backend.js';
import { drainNode, type NodeDrainResult } from '../drain/node.js';
import { InterruptedError, UsageError } from '../errors.js';
import { BaseCommand, inventoryFlag } from './base-command.js';

export const drainArgs = {
  lb: Args.string({ description: 'The load balancer (as named in the inventory).', required: false }),
};

export function drainFlags(drain: boolean) {
  return {
    inventory: inventoryFlag,
    backend: Flags.string({
      char: 'b',
      description: 'A backend (as named in the inventory) instead of a load balancer.',
    }),
    ...(drain
      ? {
          force: Flags.boolean({
            description: 'Drain even when the node is the last healthy one of a VIP (asks first; --yes skips asking).',
            default: false,
          }),
          yes: Flags.boolean({ char: 'y', description: 'Do not ask (with --force).', default: false }),
          timeout: Flags.integer({
            description:
              "Seconds to wait: for the backend's connections to end (--backend; default 60), for the VIPs to move (default: twice the cluster's convergence time).",
            min: 1,
            max: 86400,
          }),
        }
      : {}),
  };
}

export interface DrainFlags {
  inventory: string;
  backend?: string;
  force?: boolean;
  yes?: boolean;
  timeout?: number;
}

type Doc = (NodeDrainResult | BackendDrainResult) & { kind: 'node' | 'backend' };

export abstract class DrainCommand extends BaseCommand {
  protected async drainRun(
    action: 'drain' | 'undrain',
    lb: string | undefined,
    flags: DrainFlags,
  ): Promise<{ doc: Doc; ok: boolean; aborted: boolean }> {
    if ((lb === undefined) === (flags.backend === undefined))
      throw new UsageError(`${action} wants one load balancer (hactl ${action} lb1) or one --backend NAME`);
    if (flags.force && flags.backend) throw new UsageError('--force is for a load balancer, not --backend');
    const inventory = await this.loadInventory(flags.inventory, { requireSecrets: false });
    const ctx = await this.ctx();
    const progress = (line: string) => this.logToStderr(line);
    let aborted = false;
    const doc = await this.interruptible(async (signal): Promise<Doc> => {
      signal.addEventListener('abort', () => (aborted = true), { once: true });
      if (flags.backend !== undefined) {
        const r = await drainBackend(inventory, flags.backend, action, {
          connect: ctx.connect(),
          holder: `${ctx.who()} (hactl ${action} pid ${process.pid}) since ${ctx.now().toISOString()}`,
          ...(flags.timeout ? { timeoutS: flags.timeout } : {}),
          signal,
          onProgress: progress,
        });
        return { kind: 'backend', ...r };
      }
      const r = await drainNode(inventory, lb!, action, {
        connect: ctx.connect(),
        http: ctx.http,
        force: flags.force ?? false,
        ...(flags.timeout ? { timeoutMs: flags.timeout * 1000 } : {}),
        signal,
        onProgress: progress,
        ...(flags.yes
          ? {}
          : {
              confirm: (blockers) =>
                this.confirm(
                  `Drain ${lb} anyway?`,
                  blockers.join('\n'),
                  `${blockers.join('; ')}: --force needs a terminal to confirm on, or --yes`,
                ),
            }),
      });
      return { kind: 'node', ...r };
    });
    if (aborted && !doc.ok) throw new InterruptedError(`interrupted: ${doc.message}`);
    this.log(doc.message);
    return { doc, ok: doc.ok, aborted };
  }
}
