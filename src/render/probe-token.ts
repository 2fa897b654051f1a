/**
 * The probe token: nginx names the load balancer and backend that answered (X-Hactl-LB,
 * X-Hactl-Upstream) only to requests carrying it in X-Hactl-Probe, so hactl's own probes can
 * tell who answered and nobody else learns the front end's internals.
 *
 * Deploy derives it per cluster as HMAC-SHA256(key, "hactl-probe-token/v1/" + cluster name):
 * the key is the cluster's VRRP password when it has one (every operator holding the inventory's
 * secret renders the same token), else the operator's probe key (a random file under their
 * config directory, cli/probe-key.ts). Everything that only reads (verify, failover-test, the
 * load balancers' own probes) takes the token from the deployed nginx file instead, so they need
 * no secret at all. It is a Secret: masked in every diff and message, never printed.
 */
import { createHmac } from 'node:crypto';
import type { Cluster } from '../inventory/model.js';
import { Secret } from '../inventory/secret.js';

export const PROBE_HEADER = 'X-Hactl-Probe';

/** Ends the map line that holds the token in the nginx file, so hosts and hactl can find it. */
export const TOKEN_MARK = '# hactl probe token';

/** 32 hex digits: 128 bits, and nothing nginx's map or a shell would read specially. */
const TOKEN = /^ *"([0-9a-f]{32})" .*# hactl probe token$/m;

export function clusterProbeToken(cluster: Pick<Cluster, 'name' | 'vips' | 'probeKey'>): Secret | undefined {
  const passwords = cluster.vips.map((v) => v.auth?.pass.reveal() ?? '').filter((p) => p !== '');
  const key = passwords.length ? passwords.join('\n') : (cluster.probeKey?.reveal() ?? '');
  if (key === '') return undefined;
  const mac = createHmac('sha256', key).update(`hactl-probe-token/v1/${cluster.name}`).digest('hex');
  return new Secret(mac.slice(0, 32));
}

/** The token an nginx file hactl deployed carries, if any. */
export function deployedProbeToken(nginxConf: string | undefined): Secret | undefined {
  const m = nginxConf === undefined ? null : TOKEN.exec(nginxConf);
  return m ? new Secret(m[1]) : undefined;
}

/** The headers a probe sends: the token, or nothing when there is none. */
export function probeHeaders(token: Secret | undefined): Record<string, string> {
  return token ? { [PROBE_HEADER]: token.reveal() } : {};
}

/** nginx variable names per cluster (one file per cluster may share an http block with others). */
export function probeVariables(cluster: string): { lb: string; upstream: string } {
  const id = cluster.replace(/[^A-Za-z0-9_]/g, '_');
  return { lb: `$hactl_lb_${id}`, upstream: `$hactl_upstream_${id}` };
}
