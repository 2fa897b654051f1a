/**
 * What HTTPS adds to a load balancer: each TLS site's certificate and key in hactl's own
 * directory (key root:root 0600, directory 0700, so only nginx's master, running as root, reads
 * it), and the TLS parts of the site's nginx server block, per nginx version.
 */
import { allAddresses } from '../inventory/normalize.js';
import type { Cluster, Site, SiteTls } from '../inventory/model.js';
import { Secret } from '../inventory/secret.js';
import { HOST_PATHS } from '../remote/paths.js';
import { features, type Versions } from './features.js';

/**
 * Mozilla's "intermediate" profile (TLS 1.2 ciphers; TLS 1.3 suites are OpenSSL's defaults),
 * without the DHE suites, which would need a dhparam file for little gain.
 */
export const TLS_CIPHERS = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');

export function tlsPaths(site: Pick<Site, 'name'>): { certificate: string; key: string } {
  return { certificate: `${HOST_PATHS.tlsDir}/${site.name}.crt`, key: `${HOST_PATHS.tlsDir}/${site.name}.key` };
}

export type TlsSite = Site & { tls: SiteTls };
export const tlsSites = (cluster: Cluster): TlsSite[] => cluster.sites.filter((s): s is TlsSite => s.tls !== undefined);

export interface TlsFileSpec {
  path: string;
  mode: string;
  content: string;
  /** What the plan shows instead of a text diff. */
  kind: 'certificate' | 'key';
}

/** Each TLS site's certificate (world-readable, it is public) and key (0600), both in a 0700 directory. */
export function tlsFileSpecs(cluster: Cluster): TlsFileSpec[] {
  return tlsSites(cluster).flatMap((site) => {
    const p = tlsPaths(site);
    return [
      { path: p.certificate, mode: '0644', content: site.tls.certificatePem, kind: 'certificate' as const },
      { path: p.key, mode: '0600', content: site.tls.key.reveal(), kind: 'key' as const },
    ];
  });
}

/** A listen line's parameters: `ssl`, and before nginx 1.25.1 `http2` (after it, `http2 on;`). */
export function listenParams(site: Site, v: Versions): string {
  if (!site.tls) return '';
  const http2Listen = site.tls.http2 && !features(v).nginxHttp2Directive;
  return http2Listen ? ' ssl http2' : ' ssl';
}

/** The server block's TLS context (null for a plain site: the template is strict). */
export function tlsServerContext(site: Site, v: Versions) {
  if (!site.tls) return null;
  const p = tlsPaths(site);
  return {
    http2_on: site.tls.http2 && features(v).nginxHttp2Directive,
    certificate: p.certificate,
    key: p.key,
    ciphers: TLS_CIPHERS,
    stapling: site.tls.ocspStapling,
    hsts: site.tls.hsts !== undefined ? `max-age=${site.tls.hsts}` : null,
  };
}

/** Port 80 of a TLS site's VIPs answers 301 to the same URL over HTTPS. */
export function redirectContexts(cluster: Cluster, listen: (ip: string, family: 4 | 6, port: number) => string) {
  return tlsSites(cluster)
    .filter((s) => s.tls.redirectHttp)
    .map((site) => ({
      listens: site.vips.flatMap((vip) => allAddresses(vip).map((a) => listen(a.ip, a.family, 80))),
      server_names: site.serverNames.join(' '),
      identify: site.identify,
      port_suffix: site.port === 443 ? '' : `:${site.port}`,
    }));
}

/**
 * The keys' text for the masker: the whole PEM, and each line of its body too, so that even
 * a fragment (a line quoted in an error or a hand-made diff) prints as [REDACTED].
 */
export function tlsSecrets(cluster: Cluster): Secret[] {
  return tlsSites(cluster).flatMap((site) => {
    const text = site.tls.key.reveal();
    const lines = text.split('\n').filter((l) => l.length >= 16 && !l.startsWith('-----'));
    return [site.tls.key, ...lines.map((l) => new Secret(l))];
  });
}
