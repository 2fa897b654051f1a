/**
 * Runs the discovery script (facts.ts) on every load balancer at once, through the transport
 * seam. A host that cannot be reached is reported, never fatal: the wizard then asks instead
 * of proposing.
 */
import type { SshDoc } from '../inventory/schema.js';
import { JumpPool, connect } from '../transport/connect.js';
import { targetResolver } from '../run/connector.js';
import { gather } from '../remote/section.js';
import { discoveryFacts, discoverySections, type DiscoveryFacts } from '../remote/sections/discovery.js';
import { TransportError, type Transport } from '../transport/transport.js';
import type { LbRef } from './propose.js';

export interface Discovered {
  lb: string;
  facts?: DiscoveryFacts;
  error?: string;
}

export type HostConnector = (lb: LbRef, ssh: SshDoc) => Promise<Transport>;
export type Discoverer = (lbs: LbRef[], ssh: SshDoc) => Promise<Discovered[]>;

/** Connect as deploy would (inventory ssh settings, then ~/.ssh/config), with a short handshake timeout. */
export function sshHostConnector(connectTimeoutS = 5): HostConnector {
  const resolve = targetResolver();
  const jumps = new JumpPool();
  return async (lb, ssh) =>
    connect(await resolve({ name: lb.name, address: lb.address, ssh: { connect_timeout: connectTimeoutS, ...ssh } }), {
      jumps,
    });
}

export async function discoverHost(t: Transport, listenSeconds: number): Promise<DiscoveryFacts> {
  const sections = discoverySections(listenSeconds);
  const opts = { step: 'discovery', timeoutMs: (listenSeconds + 10) * 1000 };
  try {
    return discoveryFacts(await gather(t, sections, opts));
  } catch (e) {
    // Without root the addresses are still readable; only listening for adverts needs it.
    if (!(e instanceof TransportError && e.kind === 'sudo')) throw e;
    return discoveryFacts(await gather(t, sections, { ...opts, root: false }));
  }
}

export function discoverer(opts: { connect?: HostConnector; listenSeconds?: number } = {}): Discoverer {
  return async (lbs, ssh) => {
    const connectHost = opts.connect ?? sshHostConnector();
    return Promise.all(
      lbs.map(async (lb): Promise<Discovered> => {
        let t: Transport | undefined;
        try {
          t = await connectHost(lb, ssh);
          return { lb: lb.name, facts: await discoverHost(t, opts.listenSeconds ?? 3) };
        } catch (e) {
          return { lb: lb.name, error: (e as Error).message };
        } finally {
          await t?.close().catch(() => undefined);
        }
      }),
    );
  };
}
