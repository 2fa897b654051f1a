/** What HTTPS renders: the certificate and key files, and the TLS parts of nginx's server blocks per version. */
import { renderHost } from '../../../src/render/render.js';
import { maskSecrets } from '../../../src/inventory/secret.js';
import type { Cluster } from '../../../src/inventory/model.js';
import { fixturePath, loadValid } from '../../helpers/inventory.js';

const cluster = (): Cluster => loadValid(fixturePath('tls.yaml')).clusters[0];
const nginxConf = (c: Cluster, nginx?: string) =>
  renderHost(c, c.lbs[0], nginx ? { nginx } : {}).files.find((f) => f.path === '/etc/nginx/conf.d/hactl-web.conf')!
    .content;

test('certificate 0644 and key 0600, root-owned, in a 0700 directory; the key is a secret', () => {
  const c = cluster();
  const r = renderHost(c, c.lbs[0]);
  const tls = r.files.filter((f) => f.path.startsWith('/etc/hactl/tls/'));
  expect(tls.map((f) => [f.path, f.mode, f.owner, f.group, f.dirMode, f.kind, f.service])).toEqual([
    ['/etc/hactl/tls/www.crt', '0644', 'root', 'root', '0700', 'certificate', 'nginx'],
    ['/etc/hactl/tls/www.key', '0600', 'root', 'root', '0700', 'key', 'nginx'],
    ['/etc/hactl/tls/api.crt', '0644', 'root', 'root', '0700', 'certificate', 'nginx'],
    ['/etc/hactl/tls/api.key', '0600', 'root', 'root', '0700', 'key', 'nginx'],
  ]);
  // The certificate file is the inventory's, byte for byte; so is the key.
  expect(tls[0].content).toBe(c.sites[0].tls!.certificatePem);
  expect(tls[1].content).toBe(c.sites[0].tls!.key.reveal());
  expect(r.secrets.map((s) => s.reveal())).toEqual(expect.arrayContaining([tls[1].content, tls[3].content]));
});

test('HTTP/2: `listen … ssl http2` before nginx 1.25.1, `http2 on;` from it; http2: false gives neither', () => {
  const c = cluster();
  expect(nginxConf(c, '1.22.1')).toMatch(/^ {4}listen 10\.0\.0\.100:443 ssl http2;$/m);
  expect(nginxConf(c, '1.18.0')).not.toMatch(/http2 on;/);
  const new_ = nginxConf(c, '1.26.3');
  expect(new_).toMatch(
    /^ {4}listen 10\.0\.0\.100:443 ssl;\n {4}server_name www\.example\.com example\.com;\n {4}http2 on;$/m,
  );
  expect(new_).not.toMatch(/ssl http2/);
  for (const s of c.sites) s.tls!.http2 = false;
  for (const v of ['1.22.1', '1.26.3']) expect(nginxConf(c, v)).not.toMatch(/http2/);
});

test('modern TLS only; HSTS and OCSP stapling where asked for and possible', () => {
  const conf = nginxConf(cluster());
  expect(conf.match(/ssl_protocols TLSv1\.2 TLSv1\.3;/g)).toHaveLength(2);
  expect(conf.match(/ssl_prefer_server_ciphers off;/g)).toHaveLength(2);
  expect(conf).not.toMatch(/TLSv1(\.1)?[ ;]|SSLv3|RC4|3DES|CBC/);
  expect(conf.match(/Strict-Transport-Security "max-age=31536000" always/g)).toHaveLength(1);
  // api's leaf names an OCSP responder and its issuer is in the file; www's does not.
  expect(conf.match(/ssl_stapling on;/g)).toHaveLength(1);
  expect(conf.indexOf('ssl_stapling on;')).toBeGreaterThan(conf.indexOf('server_name api.example.com'));
});

test('the redirect answers on port 80 of the VIPs with the site port when it is not 443', () => {
  const c = cluster();
  expect(nginxConf(c)).toMatch(
    /listen 10\.0\.0\.100:80;\n {4}server_name www\.example\.com example\.com;[\s\S]*return 301 https:\/\/\$host\$request_uri;/,
  );
  c.sites[0].port = 8443;
  expect(nginxConf(c)).toContain('return 301 https://$host:8443$request_uri;');
  c.sites[0].tls!.redirectHttp = false;
  expect(nginxConf(c)).not.toContain('return 301');
});

test('the masker hides the key whole and any line of it', () => {
  const c = cluster();
  const r = renderHost(c, c.lbs[0]);
  const key = c.sites[0].tls!.key.reveal();
  const line = key.split('\n')[1];
  expect(maskSecrets(`a ${key} b`, r.secrets)).toBe('a [REDACTED] b');
  expect(maskSecrets(`quoted: ${line}`, r.secrets)).toBe('quoted: [REDACTED]');
});
