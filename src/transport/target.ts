/**
 * Where and how the ssh2 transport reaches one host, fully resolved (inventory `ssh:` settings,
 * then ~/.ssh/config, then defaults: resolve-target.ts). Nothing here is read again later: the
 * transport connects exactly what this says.
 */
import type { HostKeyPolicy } from '../inventory/model.js';

export interface IdentityFile {
  /** Absolute path, tokens and ~ expanded. */
  path: string;
  /** The inventory named it (like ssh -i): a missing or unusable file is an error, not skipped. */
  required: boolean;
}

/** How the TCP stream to an endpoint is made, when it is not a direct connection. */
export type Route = { jump: SshEndpoint } | { command: string };

/** One SSH server: a load balancer, or a hop on the way to it. */
export interface SshEndpoint {
  /** For messages: the inventory host name, or "bastion (jump host for lb1)". */
  name: string;
  host: string;
  port: number;
  user: string;
  /** Keys to offer, in ~/.ssh/config (or inventory) order; agent keys are ordered against them. */
  identityFiles: IdentityFile[];
  /** IdentitiesOnly: offer agent keys only when they are one of identityFiles. */
  identitiesOnly: boolean;
  /** ssh-agent socket; undefined: no agent. */
  agent?: string;
  knownHosts: string;
  hostKeyPolicy: HostKeyPolicy;
  connectTimeoutMs: number;
  /** A jump host (ProxyJump, jump_host) or a ProxyCommand; undefined: connect directly. */
  via?: Route;
}

/** A load balancer: an endpoint whose root commands may need `sudo -n`. */
export interface SshTarget extends SshEndpoint {
  sudo: boolean;
}

export const where = (t: Pick<SshEndpoint, 'user' | 'host' | 'port'>) => `${t.user}@${t.host}:${t.port}`;

/** A stable key for an endpoint and the route to it (hops shared by several targets are pooled by it). */
export function routeKey(e: SshEndpoint): string {
  const via = !e.via ? '' : 'jump' in e.via ? ` via ${routeKey(e.via.jump)}` : ` via (${e.via.command})`;
  return `${where(e)}${via}`;
}
