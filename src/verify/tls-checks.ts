/**
 * verify's HTTPS checks from this machine, per TLS site and VIP: a handshake with SNI for every
 * server name, each served certificate compared with the inventory's (a node still serving an
 * old one after a partial rollout shows here), its chain verified against tls.ca or the system
 * store, its days until expiry, and the port-80 redirect.
 */
import type { Cluster, Site, SiteTls, Vip } from '../inventory/model.js';
import type { HttpClient, HttpResult, TlsTarget } from '../util/http.js';
import { header } from '../util/http.js';
import { dayCount, daysLeft, sanCovers } from '../util/x509.js';
import type { Check } from './post-deploy.js';
import { fileChange, type FileChange } from '../plan/plan.js';
import type { HostFacts } from '../remote/facts.js';
import type { HostRender, RenderedFile } from '../render/render.js';
import { tlsPaths } from '../render/tls.js';

type TlsSite = Site & { tls: SiteTls };

/** How this machine reaches a TLS site by one of its names. */
export function tlsTarget(site: Site, servername: string): TlsTarget | undefined {
  return site.tls ? { servername, ...(site.tls.caPem ? { ca: site.tls.caPem } : {}) } : undefined;
}

/** The names to handshake with: every server name that names a host (*.x as www.x, .x as x), and the health host. */
export function sniNames(site: Site): string[] {
  const names = site.serverNames.flatMap((n) => {
    if (n.startsWith('~') || n.startsWith('$') || n.endsWith('.*')) return [];
    return [n.replace(/^\*\./, 'www.').replace(/^\./, '').toLowerCase()];
  });
  return [...new Set([site.healthHost.toLowerCase(), ...names])];
}

const short = (fp: string) => `${fp.slice(0, 23)}…`;
const via = (r: HttpResult) => (header(r, 'x-hactl-lb') ? ` via ${header(r, 'x-hactl-lb')}` : '');

function certCheck(site: TlsSite, name: string, r: HttpResult): Pick<Check, 'ok' | 'detail' | 'data'> {
  const served = r.tls?.certificate;
  const want = site.tls.leaf.fingerprint256;
  const data = { servername: name, expected: want, served: served ?? null, protocol: r.tls?.protocol ?? null };
  if (!served) return { ok: false, detail: `no TLS handshake: ${r.error ?? 'no certificate'}`, data };
  if (served.fingerprint256 !== want)
    return {
      ok: false,
      detail: `serves the wrong certificate${via(r)}: SHA-256 ${short(served.fingerprint256)} (subject ${served.subject}, expires ${served.notAfter.slice(0, 10)}), not the deployed ${short(want)} (expires ${site.tls.leaf.notAfter.slice(0, 10)})`,
      data,
    };
  if (!served.sans.some((san) => sanCovers(san, name)))
    return { ok: false, detail: `the certificate does not cover ${name} (SANs ${served.sans.join(', ')})`, data };
  return {
    ok: true,
    detail: `serves the deployed certificate (SHA-256 ${short(want)}, ${r.tls?.protocol})${via(r)}`,
    data,
  };
}

function chainCheck(site: TlsSite, r: HttpResult): Pick<Check, 'ok' | 'detail' | 'data'> {
  const against = site.tls.caFile
    ? `tls.ca (${site.tls.caFile})`
    : "node's public roots (Mozilla's list, plus NODE_EXTRA_CA_CERTS)";
  const data = { trust: site.tls.caFile ?? 'system', authorized: r.tls?.authorized ?? false };
  if (!r.tls) return { ok: false, detail: `no TLS handshake: ${r.error ?? 'no answer'}`, data };
  if (r.tls.authorized) return { ok: true, detail: `the chain verifies against ${against}`, data };
  return { ok: false, detail: `the chain does not verify against ${against}: ${r.tls.authorizationError}`, data };
}

function expiryCheck(site: TlsSite, r: HttpResult, now: Date): Pick<Check, 'ok' | 'detail' | 'data' | 'warning'> {
  const served = r.tls?.certificate;
  if (!served) return { ok: false, detail: `no TLS handshake: ${r.error ?? 'no answer'}`, data: {} };
  const days = daysLeft(served.notAfter, now);
  const data = { notAfter: served.notAfter, daysLeft: days, warningDays: site.tls.expiryWarningDays };
  const date = served.notAfter.slice(0, 10);
  if (new Date(served.notAfter) < now)
    return { ok: false, detail: `EXPIRED on ${date} (${dayCount(-days)} ago)`, data };
  if (new Date(served.notBefore) > now) return { ok: false, detail: `not valid until ${served.notBefore}`, data };
  if (days < site.tls.expiryWarningDays)
    return { ok: true, warning: true, detail: `expires on ${date}, in ${dayCount(days)}: renew and deploy`, data };
  return { ok: true, detail: `expires on ${date}, in ${dayCount(days)}`, data };
}

async function redirectCheck(
  site: TlsSite,
  vip: Vip,
  http: HttpClient,
  headers: Record<string, string>,
): Promise<Pick<Check, 'ok' | 'detail' | 'data'>> {
  const r = await http(
    { ip: vip.ip, port: 80, host: site.healthHost, path: site.healthPath, timeoutMs: 2000 },
    headers,
  );
  const want = `https://${site.healthHost}${site.port === 443 ? '' : `:${site.port}`}${site.healthPath}`;
  const location = header(r, 'location');
  const data = { status: r.status, location: location ?? null, expected: want };
  if (r.status === 301 && location === want) return { ok: true, detail: `301 to ${want}${via(r)}`, data };
  const got = r.status ? `${r.status}${location ? ` to ${location}` : ''}` : `no answer: ${r.error}`;
  return { ok: false, detail: `expected 301 to ${want}, got ${got}`, data };
}

interface TlsAsk {
  http: HttpClient;
  now: Date;
  /** The probe token's header, so the answer names the load balancer that served it. */
  headers: Record<string, string>;
}

async function vipChecks(cluster: Cluster, site: TlsSite, vip: Vip, ask: TlsAsk): Promise<Check[]> {
  const { http, now, headers } = ask;
  const at = (name: string) =>
    `this machine → https://${name}${site.port === 443 ? '' : `:${site.port}`} via ${vip.ip}`;
  const check = (kind: string, target: string, c: Pick<Check, 'ok' | 'detail' | 'data' | 'warning'>): Check => ({
    kind,
    cluster: cluster.name,
    target,
    ...c,
  });
  const names = sniNames(site);
  const results = await Promise.all(
    names.map((name) =>
      http(
        {
          ip: vip.ip,
          port: site.port,
          host: name,
          path: site.healthPath,
          timeoutMs: 3000,
          tls: tlsTarget(site, name),
        },
        headers,
      ),
    ),
  );
  const out = names.map((name, i) => check('tls-cert', at(name), certCheck(site, name, results[i])));
  out.push(check('tls-chain', at(names[0]), chainCheck(site, results[0])));
  out.push(check('tls-expiry', at(names[0]), expiryCheck(site, results[0], now)));
  if (site.tls.redirectHttp) {
    const target = `this machine → http://${site.healthHost}${site.healthPath} via ${vip.ip}:80`;
    out.push(check('tls-redirect', target, await redirectCheck(site, vip, http, headers)));
  }
  return out;
}

export async function operatorTlsChecks(
  cluster: Cluster,
  http: HttpClient,
  now: Date,
  headers: Record<string, string> = {},
): Promise<Check[]> {
  const sites = cluster.sites.filter((s): s is TlsSite => s.tls !== undefined);
  const ask = { http, now, headers };
  const perVip = await Promise.all(sites.flatMap((s) => s.vips.map((v) => vipChecks(cluster, s, v, ask))));
  return perVip.flat();
}

/**
 * A key whose variable is not set here (verify needs no secret): its file is compared by mode
 * and owner only, never reported as changed content.
 */
export function keyDrift(file: RenderedFile, f: HostFacts, render: HostRender): { change: FileChange; note: string } {
  const remote = f.files[file.path];
  const known = remote?.exists ? { ...file, content: remote.content ?? '', sha256: remote.sha256 ?? '' } : file;
  const site = render.cluster.sites.find((s) => s.tls && tlsPaths(s).key === file.path);
  const note = ` (content not compared: ${site?.tls?.keySource ?? 'the key'} is not set here)`;
  return { change: fileChange(known, f, render.secrets), note };
}
