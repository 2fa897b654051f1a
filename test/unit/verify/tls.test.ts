/**
 * HTTPS from this machine: the one HTTP client against a real node TLS server (SNI, a full
 * handshake per request, trust by CA bundle, old protocol versions refused), and verify's TLS
 * checks over the answers it gets.
 */
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { createSecureContext } from 'node:tls';
import { loadInventoryFile } from '../../../src/inventory/load.js';
import type { Cluster } from '../../../src/inventory/model.js';
import { httpGet, type HttpClient, type HttpResult } from '../../../src/util/http.js';
import { summarize } from '../../../src/util/x509.js';
import { X509Certificate } from 'node:crypto';
import { operatorTlsChecks, sniNames } from '../../../src/verify/tls-checks.js';
import { quietVerify, verifyJson, formatVerify } from '../../../src/ui/verify-view.js';
import { DAY, NOW, tlsFiles, type TlsFiles } from '../../helpers/tls.js';
import { TEST_ENV } from '../../helpers/inventory.js';

let t: TlsFiles;
let server: Server;
let port: number;
let handshakes = 0;
let resumed = 0;
/** The server's certificates are valid by the real clock (the handshake checks it); the rest of the file uses NOW. */
const live = { notBefore: new Date(Date.now() - 60_000), notAfter: new Date(Date.now() + 30 * DAY) };
let www: ReturnType<TlsFiles['mint']>;
let api: ReturnType<TlsFiles['mint']>;

beforeAll(async () => {
  t = tlsFiles();
  www = t.mint(live);
  api = t.mint({ commonName: 'api.example.com', sans: ['api.example.com'], ...live });
  const ctx = (m: typeof www) => createSecureContext({ cert: m.certPem + t.intermediate.certPem, key: m.keyPem });
  const [wwwCtx, apiCtx] = [ctx(www), ctx(api)];
  server = createServer(
    { SNICallback: (name, cb) => cb(null, name === 'api.example.com' ? apiCtx : wwwCtx), minVersion: 'TLSv1.2' },
    (req, res) => {
      res.writeHead(200, { 'x-hactl-lb': 'lb1' });
      res.end(`host=${req.headers.host}\n`);
    },
  );
  server.on('secureConnection', (s) => {
    handshakes++;
    if (s.isSessionReused()) resumed++;
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  t.remove();
  if (server) await new Promise((resolve) => server.close(resolve));
});

const get = (servername: string, extra: object = {}) =>
  httpGet({
    ip: '127.0.0.1',
    port,
    host: servername,
    path: '/',
    timeoutMs: 3000,
    tls: { servername, ca: t.ca.certPem, ...extra },
  });

describe('httpGet over TLS', () => {
  test('SNI picks the certificate; the chain verifies against the CA given; what was served is reported', async () => {
    const r = await get('www.example.com');
    expect(r.error).toBeUndefined();
    expect(r).toMatchObject({ status: 200, body: 'host=www.example.com\n' });
    expect(r.tls).toMatchObject({ authorized: true, protocol: 'TLSv1.3' });
    expect(r.tls!.certificate!.fingerprint256).toBe(new X509Certificate(www.certPem).fingerprint256);
    const a = await get('api.example.com');
    expect(a.tls!.certificate!.sans).toEqual(['api.example.com']);
  });

  test('a chain the trust does not cover still answers, marked unauthorized with the reason', async () => {
    const r = await httpGet({
      ip: '127.0.0.1',
      port,
      host: 'x',
      path: '/',
      timeoutMs: 3000,
      tls: { servername: 'www.example.com' },
    });
    expect(r.status).toBe(200);
    expect(r.tls).toMatchObject({ authorized: false, authorizationError: expect.stringMatching(/ISSUER|SELF_SIGNED/) });
  });

  test('every request is a new connection with a full handshake (none resumed)', async () => {
    const before = handshakes;
    await Promise.all([get('www.example.com'), get('www.example.com'), get('www.example.com')]);
    expect(handshakes - before).toBe(3);
    expect(resumed).toBe(0);
  });

  test('a TLS 1.1 client is refused by a TLS 1.2+ server: no status, an error code', async () => {
    const r = await get('www.example.com', { minVersion: 'TLSv1.1', maxVersion: 'TLSv1.1' });
    expect(r.status).toBe(0);
    expect(r.error).toMatch(/ERR_SSL|EPROTO|ECONNRESET/);
    expect(r.tls).toBeUndefined();
  });
});

describe("verify's TLS checks", () => {
  let cluster: Cluster;
  beforeAll(() => {
    const path = t.inventory({ certificate: 'www.pem', key: 'www.key', ca: 'ca.pem' });
    cluster = loadInventoryFile(path, { env: TEST_ENV, now: NOW }).inventory!.clusters[0];
  });

  /**
   * This machine's view: the VIP serves `cert` for every name, port 80 redirects as nginx would,
   * and, as hactl's nginx does, names the load balancer only to a request carrying the probe token.
   */
  const TOKEN = { 'X-Hactl-Probe': 'tok' };
  const serving =
    (certPem: string, opts: { authorized?: boolean; redirect?: string } = {}): HttpClient =>
    async (target, headers = {}) => {
      const who = headers['X-Hactl-Probe'] === 'tok' ? { 'x-hactl-lb': 'lb1' } : {};
      if (!target.tls) {
        const location = opts.redirect ?? `https://${target.host}${target.path}`;
        return { status: 301, ms: 1, body: '', headers: { location, ...who } };
      }
      const certificate = summarize(new X509Certificate(certPem));
      const tls = { authorized: opts.authorized ?? true, protocol: 'TLSv1.3', certificate };
      return { status: 200, ms: 1, body: '', headers: who, tls } as HttpResult;
    };

  test('the deployed certificate, a verified chain, far from expiry, the redirect: all pass', async () => {
    const checks = await operatorTlsChecks(cluster, serving(t.leaf.certPem), NOW);
    expect(checks.map((c) => [c.kind, c.target, c.ok])).toEqual([
      ['tls-cert', 'this machine → https://www.example.com via 10.0.0.100', true],
      ['tls-cert', 'this machine → https://example.com via 10.0.0.100', true],
      ['tls-chain', 'this machine → https://www.example.com via 10.0.0.100', true],
      ['tls-expiry', 'this machine → https://www.example.com via 10.0.0.100', true],
      ['tls-redirect', 'this machine → http://www.example.com/healthz via 10.0.0.100:80', true],
    ]);
    expect(checks[3].detail).toBe('expires on 2026-07-31, in 60 days');
    expect(checks[2].detail).toBe('the chain verifies against tls.ca (ca.pem)');
  });

  test('a node serving an old certificate is named, with both fingerprints', async () => {
    const old = t.mint({ notAfter: new Date(NOW.getTime() + 5 * DAY) });
    const checks = await operatorTlsChecks(cluster, serving(old.certPem), NOW, TOKEN);
    const cert = checks.find((c) => c.kind === 'tls-cert')!;
    expect(cert.ok).toBe(false);
    // Without the probe token nginx names nobody: the check still fails, without "via".
    const anonymous = (await operatorTlsChecks(cluster, serving(old.certPem), NOW)).find((c) => c.kind === 'tls-cert')!;
    expect(anonymous.detail).toMatch(/^serves the wrong certificate: /);
    expect(cert.detail).toMatch(
      /^serves the wrong certificate via lb1: SHA-256 [0-9A-F:]{23}… \(subject CN=www\.example\.com, expires 2026-06-06\), not the deployed [0-9A-F:]{23}… \(expires 2026-07-31\)$/,
    );
    expect(cert.data).toMatchObject({
      servername: 'www.example.com',
      expected: expect.any(String),
      served: { notAfter: expect.any(String) },
    });
    const expiry = checks.find((c) => c.kind === 'tls-expiry')!;
    expect(expiry).toMatchObject({
      ok: true,
      warning: true,
      detail: 'expires on 2026-06-06, in 5 days: renew and deploy',
    });
    const report = { ok: false, checks, vips: [], findings: [], facts: new Map(), durationMs: 1 };
    expect(quietVerify(report)).toContain(
      'hactl verify: warning: web: tls-expiry this machine → https://www.example.com via 10.0.0.100: expires on 2026-06-06, in 5 days: renew and deploy',
    );
    expect(verifyJson(report).checks.find((c) => c.kind === 'tls-expiry')).toMatchObject({
      warning: true,
      data: { daysLeft: 5 },
    });
    expect(formatVerify(report, ['web'])).toMatch(/tls-expiry .* warn /);
  });

  test('expired fails; an untrusted chain fails; a wrong redirect fails', async () => {
    const dead = t.mint({ notBefore: new Date(NOW.getTime() - 90 * DAY), notAfter: new Date(NOW.getTime() - DAY) });
    const checks = await operatorTlsChecks(
      cluster,
      serving(dead.certPem, { authorized: false, redirect: 'http://elsewhere/' }),
      NOW,
    );
    const by = (k: string) => checks.find((c) => c.kind === k)!;
    expect(by('tls-expiry')).toMatchObject({ ok: false, detail: 'EXPIRED on 2026-05-31 (1 day ago)' });
    expect(by('tls-chain')).toMatchObject({ ok: false });
    expect(by('tls-redirect').detail).toBe(
      'expected 301 to https://www.example.com/healthz, got 301 to http://elsewhere/',
    );
  });

  test('SNI names: each server name that names a host, the health host first', () => {
    const site = {
      ...cluster.sites[0],
      serverNames: ['*.example.com', '.example.org', '~^x$', 'a.example.net'],
      healthHost: 'www.example.com',
    };
    expect(sniNames(site)).toEqual(['www.example.com', 'example.org', 'a.example.net']);
  });
});
