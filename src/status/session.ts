/**
 * Gathers what `hactl status` shows: one round trip per load balancer per refresh (the facts
 * script plus keepalived's own state and what failover-test left), in parallel, over connections kept open across
 * refreshes so `--watch` does not reconnect every second. A failed host is reconnected on the
 * next refresh.
 */
import type { Cluster, Inventory, LoadBalancer } from '../inventory/model.js';
import { readFacts } from '../remote/facts.js';
import { keepalivedViewSection } from '../remote/sections/keepalived.js';
import { leftoversSection } from '../remote/sections/faults.js';
import type { LbConnector, Transport } from '../transport/transport.js';
import { buildStatus, type HostObservation, type StatusReport } from './status.js';
import { certificateFiles } from './tls-expiry.js';

export interface StatusOptions {
  connect: LbConnector;
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

  private async observe(lb: LoadBalancer, cluster: Cluster): Promise<HostObservation> {
    try {
      const t = await this.transport(lb);
      const req = { files: certificateFiles(cluster), sysctl: [], statusPort: cluster.nginxStatusPort };
      const { facts, extra } = await readFacts(t, req, [keepalivedViewSection, leftoversSection()] as const, {
        step: 'status',
        timeoutMs: this.opts.timeoutMs ?? 10_000,
      });
      return { facts, keepalived: extra[0].instances, scripts: extra[0].scripts, leftovers: extra[1] };
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
          observed.set(lb.name, await this.observe(lb, c));
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
