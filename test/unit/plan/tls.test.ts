/**
 * A certificate change in the plan is its subject, names, expiry and fingerprint, old → new; a
 * key change is its fingerprint; neither key, old or new, is in the plan, its diffs or --json.
 */
import { createHash, createPrivateKey } from 'node:crypto';
import { planHost } from '../../../src/plan/plan.js';
import { renderInventory } from '../../../src/render/render.js';
import { deployJson, formatPlans } from '../../../src/ui/deploy-view.js';
import { mintCertificate } from '../../../src/lab/tls-mint.js';
import { keyFingerprint } from '../../../src/util/x509.js';
import { factsOf } from '../../helpers/facts.js';
import { fixturePath, loadValid } from '../../helpers/inventory.js';

const render = renderInventory(loadValid(fixturePath('tls.yaml')))[0];
const sha = (t: string) => createHash('sha256').update(t).digest('hex');
const file = (path: string) => render.files.find((f) => f.path === path)!;

/** A host with everything in place, except the files given with their remote content. */
function facts(remote: Record<string, string>) {
  const f = factsOf();
  for (const r of render.files) {
    const content = remote[r.path] ?? r.content;
    f.files[r.path] = { exists: true, mode: r.mode, owner: r.owner, group: r.group, sha256: sha(content), content };
  }
  return f;
}

// The host's old certificate and key: another key, a certificate for the same names.
const oldCert = mintCertificate({
  commonName: 'www.example.com',
  sans: ['www.example.com', 'example.com'],
  notBefore: new Date('2026-01-01T00:00:00Z'),
  notAfter: new Date('2026-04-01T00:00:00Z'),
});

test('a rotation: the certificate by what it is, old → new; the key by its fingerprint; no key text anywhere', () => {
  const p = planHost(
    render,
    facts({ '/etc/hactl/tls/www.crt': oldCert.certPem, '/etc/hactl/tls/www.key': oldCert.keyPem }),
  );
  const cert = p.files.find((f) => f.file.path === '/etc/hactl/tls/www.crt')!;
  const key = p.files.find((f) => f.file.path === '/etc/hactl/tls/www.key')!;
  expect(cert.action).toBe('update');
  expect(cert.reasons).toEqual(['certificate changed']);
  expect(cert.diff).toMatch(
    /^-certificate: subject CN=www\.example\.com, SANs www\.example\.com, example\.com, expires 2026-04-01, SHA-256 [0-9A-F:]{95}$/m,
  );
  expect(cert.diff).toMatch(/^\+certificate: subject CN=www\.example\.com, SANs .*, expires 2126-01-01, SHA-256 /m);
  const newPrint = keyFingerprint(createPrivateKey(file('/etc/hactl/tls/www.key').content));
  expect(key.reasons).toEqual([`key changed (fingerprint ${keyFingerprint(oldCert.key)} → ${newPrint})`]);
  expect(key.diff).toBe('');
  expect(p.summary).toBe('update /etc/hactl/tls/www.crt, update /etc/hactl/tls/www.key, reload nginx');
  const json = deployJson({
    ok: true,
    dryRun: true,
    phase: 'plan',
    message: '',
    hosts: [],
    plans: [p],
    checks: [],
    aborted: false,
    durationMs: 0,
  });
  const shown = formatPlans([p], true) + JSON.stringify(json);
  expect(shown).toContain('key changed (fingerprint');
  for (const k of [oldCert.keyPem, file('/etc/hactl/tls/www.key').content])
    for (const line of k.split('\n').filter((l) => l.length > 16)) expect(shown).not.toContain(line);
});

test('a first deploy describes the certificate and the key without their text', () => {
  const f = facts({});
  delete f.files['/etc/hactl/tls/api.crt'];
  delete f.files['/etc/hactl/tls/api.key'];
  const p = planHost(render, f);
  const key = p.files.find((x) => x.file.path === '/etc/hactl/tls/api.key')!;
  expect(key).toMatchObject({ action: 'create', diff: '' });
  expect(key.reasons[1]).toMatch(/^key \(fingerprint [0-9A-F:]{95}\)$/);
  const cert = p.files.find((x) => x.file.path === '/etc/hactl/tls/api.crt')!;
  expect(cert.diff).toMatch(
    /^--- \/dev\/null\n\+\+\+ \/etc\/hactl\/tls\/api\.crt\n\+certificate: subject CN=api\.example\.com/,
  );
});

test('a key left world-readable by hand is put back to 0600 without a reload of content', () => {
  const f = facts({});
  f.files['/etc/hactl/tls/www.key'].mode = '0644';
  const p = planHost(render, f);
  const key = p.files.find((x) => x.file.path === '/etc/hactl/tls/www.key')!;
  expect(key).toMatchObject({ action: 'chmod', reasons: ['mode 0644 → 0600'], diff: '' });
});
