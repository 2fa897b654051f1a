/**
 * Gathers what `hactl status` shows: one round trip per load balancer per refresh (the facts
 * script plus keepalived's own state), in parallel, over connections kept open across
 * refreshes so `--watch` does not reconnect every second. A failed host is reconnected on the
 * next refresh.
 */
import type { Inventory, LoadBalancer } from '../inventory/model.js';
import type { Transport } from '../transport/transport.js';
import { factsScript, parseFacts } from '../facts/host-facts.js';
import { KEEPALIVED_STATE_SCRIPT, parseKeepalivedState } from './keepalived-state.js';
import { buildStatus, type HostObservation, type StatusReport } from './status.js';

export interface StatusOptions {
  connect: (lb: LoadBalancer) => Promise<Transport>;
  timeoutMs?: number;
}

export class StatusSession {
  private readonly transports = new Map<string, Promise<Transport>>();
  private closed = false;

  constructor(
    private readonly inv: Inventory,
    private readonly opts: StatusOptions,
  ) {}

  /** Connections currently open or opening (the e2e test checks they are reused). */
  get connections(): number {
    return this.transports.size;
  }

  private transport(lb: LoadBalancer): Promise<Transport> {
    let t = this.transports.get(lb.name);
    if (!t) {
      t = this.opts.connect(lb);
      this.transports.set(lb.name, t);
      t.catch(() => this.transports.delete(lb.name));
    }
    return t;
  }

  private async observe(lb: LoadBalancer, statusPort: number): Promise<HostObservation> {
    try {
      const t = await this.transport(lb);
      const script = `${factsScript({ files: [], statusPort })}\n${KEEPALIVED_STATE_SCRIPT}`;
      const r = await t.exec(script, { timeoutMs: this.opts.timeoutMs ?? 10_000 });
      if (r.code !== 0) throw new Error(`status script failed (exit ${r.code}): ${r.stderr.trim()}`);
      return { facts: parseFacts(r.stdout), keepalived: parseKeepalivedState(r.stdout) };
    } catch (e) {
      const stale = this.transports.get(lb.name);
      this.transports.delete(lb.name);
      stale?.then((t) => t.close()).catch(() => undefined);
      return { error: (e as Error).message };
    }
  }

  async refresh(): Promise<StatusReport> {
    if (this.closed) throw new Error('status session is closed');
    const observed = new Map<string, HostObservation>();
    await Promise.all(
      this.inv.clusters.flatMap((c) =>
        c.lbs.map(async (lb) => {
          observed.set(lb.name, await this.observe(lb, c.nginxStatusPort));
        }),
      ),
    );
    return buildStatus(this.inv, observed, Date.now());
  }

  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.transports.values()];
    this.transports.clear();
    await Promise.all(all.map((p) => p.then((t) => t.close()).catch(() => undefined)));
  }
}
