/** status: the nearest certificate expiry per cluster, read from the certificate files on the load balancers. */
import { readFileSync } from 'node:fs';
import { httpProbesSection } from '../../../src/remote/sections/http-probes.js';
import { mintCertificate } from '../../../src/lab/tls-mint.js';
import { buildStatus, type HostObservation } from '../../../src/status/status.js';
import { formatStatus, statusJson } from '../../../src/ui/status-view.js';
import { factsOf } from '../../helpers/facts.js';
import { fixturePath, loadValid } from '../../helpers/inventory.js';

const inv = loadValid(fixturePath('tls.yaml'));
const AT = Date.UTC(2126, 0, 1) - 10 * 86_400_000;
const deployed = readFileSync(fixturePath('tls/www.pem'), 'utf8');
const older = mintCertificate({
  commonName: 'api.example.com',
  sans: ['api.example.com'],
  notAfter: new Date(AT + 3 * 86_400_000),
});

function withCerts(files: Record<string, string>) {
  const f = factsOf();
  for (const [path, content] of Object.entries(files)) f.files[path] = { exists: true, content };
  return { facts: f };
}

test('the certificate that expires first on any load balancer, per cluster, in text and --json', () => {
  const r = buildStatus(
    inv,
    new Map([
      ['lb1', withCerts({ '/etc/hactl/tls/www.crt': deployed, '/etc/hactl/tls/api.crt': deployed })],
      // lb2 still has an older api certificate (a partial rollout): that one is the nearest.
      ['lb2', withCerts({ '/etc/hactl/tls/www.crt': deployed, '/etc/hactl/tls/api.crt': older.certPem })],
    ]),
    AT,
  );
  expect(r.certificates).toEqual([
    expect.objectContaining({ cluster: 'web', site: 'api', lb: 'lb2', daysLeft: 3, warningDays: 21 }),
  ]);
  expect(formatStatus(r)).toMatch(/nearest certificate expiry: api on lb2, 2125-12-25 \(in 3 days\)/);
  expect(statusJson(r).certificates[0]).toMatchObject({ site: 'api', lb: 'lb2', daysLeft: 3 });
});

test('no certificate on any load balancer (not deployed yet): nothing to say', () => {
  const r = buildStatus(
    inv,
    new Map<string, HostObservation>([
      ['lb1', withCerts({})],
      ['lb2', { error: 'unreachable' }],
    ]),
    AT,
  );
  expect(r.certificates).toEqual([]);
  expect(formatStatus(r)).not.toMatch(/certificate/);
});

test("the load balancers' own probe of a TLS site is HTTPS without verification (curl -k); plain probes are unchanged", () => {
  const probes = [
    { id: 's-www-vip1', ip: '10.0.0.100', port: 443, host: 'www.example.com', path: '/', https: true },
    { id: 's-old-vip1', ip: '10.0.0.100', port: 80, host: 'old.example.com', path: '/' },
  ];
  const text = httpProbesSection(probes).before!.text;
  expect(text).toContain("-s -k -o /dev/null -m 2 -w 's-www-vip1 ");
  expect(text).toContain('https://10.0.0.100:443/');
  expect(text).toContain("-s -o /dev/null -m 2 -w 's-old-vip1 ");
  expect(text).toContain('http://10.0.0.100:80/');
});
