/**
 * A site's certificate is checked when the inventory is loaded, with certificates made in the
 * test: each problem is located at its tls: field, describes the certificate (subject, SANs,
 * dates) and never shows the key.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createPrivateKey } from 'node:crypto';
import { loadInventoryFile } from '../../../src/inventory/load.js';
import type { Problem } from '../../../src/inventory/problems.js';
import { newKey } from '../../../src/lab/tls-mint.js';
import { DAY, NOW, tlsFiles, type TlsFiles } from '../../helpers/tls.js';
import { TEST_ENV } from '../../helpers/inventory.js';

let t: TlsFiles;
beforeEach(() => (t = tlsFiles()));
afterEach(() => t.remove());

const TLS = { certificate: 'www.pem', key: 'www.key' };

function load(path: string, opts: { env?: NodeJS.ProcessEnv; requireSecrets?: boolean; now?: Date } = {}) {
  return loadInventoryFile(path, { env: TEST_ENV, requireSecrets: true, now: NOW, ...opts });
}

function problem(path: string, rule: string, opts: Parameters<typeof load>[1] = {}): Problem {
  const r = load(path, opts);
  const hit = r.problems.find((p) => p.rule === rule);
  if (!hit) throw new Error(`no [${rule}] in ${JSON.stringify(r.problems, null, 2)}`);
  // The key's text is in no message, fix or path, whatever went wrong.
  expect(JSON.stringify(r.problems)).not.toContain(t.leaf.keyPem.split('\n')[1]);
  return hit;
}

describe('a valid certificate', () => {
  it('loads with its chain, key fingerprint and defaults (443, redirect, http2)', () => {
    const r = load(t.inventory(TLS));
    expect(r.problems).toEqual([]);
    const site = r.inventory!.clusters[0].sites[0];
    expect(site.port).toBe(443);
    expect(site.tls).toMatchObject({
      certificateFile: 'www.pem',
      keySource: 'www.key',
      redirectHttp: true,
      http2: true,
      expiryWarningDays: 21,
      ocspStapling: false,
      leaf: { subject: 'CN=www.example.com', sans: ['www.example.com', 'example.com'] },
    });
    expect(site.tls!.key.reveal()).toBe(t.leaf.keyPem);
    expect(String(site.tls!.key)).toBe('[REDACTED]');
    expect(site.tls!.keyFingerprint).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  });

  it('takes the key from key_env, and under validate an unset variable is only a warning', () => {
    const path = t.inventory({ certificate: 'www.pem', key_env: 'WWW_TLS_KEY' });
    expect(load(path, { env: { ...TEST_ENV, WWW_TLS_KEY: t.leaf.keyPem } }).problems).toEqual([]);
    const unset = load(path, { requireSecrets: false });
    expect(unset.problems).toMatchObject([
      { severity: 'warning', rule: 'tls-key', path: 'clusters[0].sites[0].tls.key_env' },
    ]);
    expect(unset.inventory!.clusters[0].sites[0].tls!.keyFingerprint).toBe('');
    expect(problem(path, 'tls-key').severity).toBe('error');
  });

  it('staples OCSP only when the leaf names a responder and its issuer is in the file', () => {
    const ocsp = t.mint({ key: createPrivateKey(t.leaf.keyPem), ocspUrl: 'http://ocsp.example.com/' });
    t.write('ocsp.pem', ocsp.certPem + t.intermediate.certPem);
    t.write('alone.pem', ocsp.certPem);
    const stapling = (cert: string) =>
      load(t.inventory({ ...TLS, certificate: cert })).inventory!.clusters[0].sites[0].tls!.ocspStapling;
    expect(stapling('ocsp.pem')).toBe(true);
    expect(stapling('alone.pem')).toBe(false);
    expect(stapling('www.pem')).toBe(false);
  });
});

describe('refused before anything is written', () => {
  it('an expired certificate (the message shows subject, SANs and dates)', () => {
    const old = t.mint({ notBefore: new Date(NOW.getTime() - 100 * DAY), notAfter: new Date(NOW.getTime() - 3 * DAY) });
    t.write('old.pem', old.certPem + t.intermediate.certPem);
    t.write('old.key', old.keyPem);
    const p = problem(t.inventory({ certificate: 'old.pem', key: 'old.key' }), 'tls-expiry');
    expect(p).toMatchObject({ severity: 'error', path: 'clusters[0].sites[0].tls.certificate' });
    expect(p.message).toMatch(/the certificate expired on 2026-05-29 \(3 days ago\)/);
    expect(p.message).toMatch(
      /subject CN=www\.example\.com, SANs www\.example\.com, example\.com, valid 2026-02-21 → 2026-05-29/,
    );
    expect(p.line).toBeGreaterThan(1);
  });

  it('a certificate that is not valid yet', () => {
    const early = t.mint({
      notBefore: new Date(NOW.getTime() + 2 * DAY),
      notAfter: new Date(NOW.getTime() + 92 * DAY),
    });
    t.write('early.pem', early.certPem + t.intermediate.certPem);
    t.write('early.key', early.keyPem);
    const p = problem(t.inventory({ certificate: 'early.pem', key: 'early.key' }), 'tls-expiry');
    expect(p.message).toMatch(/is not valid until Jun {2}3 12:00:00 2026 GMT/);
  });

  it('verify and status only report the dates (they run to show what is deployed)', () => {
    const old = t.mint({ notAfter: new Date(NOW.getTime() - DAY) });
    t.write('old.pem', old.certPem + t.intermediate.certPem);
    t.write('old.key', old.keyPem);
    const path = t.inventory({ certificate: 'old.pem', key: 'old.key' });
    const r = loadInventoryFile(path, { env: TEST_ENV, now: NOW, certificateDates: 'warning' });
    expect(r.inventory).toBeDefined();
    expect(r.problems).toMatchObject([{ severity: 'warning', rule: 'tls-expiry' }]);
  });

  it('a key that does not match, with both fingerprints', () => {
    t.write('other.key', newKey().export({ type: 'pkcs8', format: 'pem' }).toString());
    const p = problem(t.inventory({ ...TLS, key: 'other.key' }), 'tls-key');
    expect(p).toMatchObject({ severity: 'error', path: 'clusters[0].sites[0].tls.key' });
    expect(p.message).toMatch(
      /the key does not match the certificate: the key's public half has fingerprint [0-9A-F:]{95}, the certificate's [0-9A-F:]{95}/,
    );
  });

  it('a server name the certificate does not cover, located at server_names', () => {
    const narrow = t.mint({ key: createPrivateKey(t.leaf.keyPem), sans: ['www.example.com'] });
    t.write('narrow.pem', narrow.certPem + t.intermediate.certPem);
    const p = problem(t.inventory({ ...TLS, certificate: 'narrow.pem' }), 'tls-names');
    expect(p).toMatchObject({ severity: 'error', path: 'clusters[0].sites[0].server_names' });
    expect(p.message).toMatch(/does not cover example\.com \(subject CN=www\.example\.com, SANs www\.example\.com,/);
  });

  it('a wildcard SAN covers one label: www. and api. but not example.com itself or a.b.', () => {
    const wild = t.mint({ key: createPrivateKey(t.leaf.keyPem), sans: ['*.example.com'] });
    t.write('wild.pem', wild.certPem + t.intermediate.certPem);
    const names = (n: string[]) =>
      load(
        t.inventory({ ...TLS, certificate: 'wild.pem' }, (d) =>
          d.setIn(['clusters', 0, 'sites', 0, 'server_names'], d.createNode(n)),
        ),
      ).problems.filter((p) => p.rule === 'tls-names');
    expect(names(['www.example.com', 'API.example.com', '*.example.com'])).toEqual([]);
    expect(names(['example.com', 'a.b.example.com'])[0].message).toMatch(
      /does not cover example\.com, a\.b\.example\.com/,
    );
    // nginx's .example.com is example.com and every name below it.
    expect(names(['.example.com'])[0].message).toMatch(/does not cover example\.com \(/);
    // A regular expression names no host: a warning, not a refusal.
    expect(names(['~^www\\d+\\.example\\.com$'])).toMatchObject([{ severity: 'warning' }]);
  });

  it('a chain out of order (intermediate before the leaf)', () => {
    t.write('backwards.pem', t.intermediate.certPem + t.leaf.certPem);
    const r = load(t.inventory({ ...TLS, certificate: 'backwards.pem' }));
    const rules = r.problems.map((p) => p.rule);
    expect(rules).toContain('tls-chain');
    const key = r.problems.find((p) => p.rule === 'tls-key')!;
    expect(key.message).toMatch(
      /the key belongs to certificate 2 of the file \(subject CN=www\.example\.com\), not to the first/,
    );
    const chain = r.problems.find((p) => p.rule === 'tls-chain')!;
    expect(chain.message).toMatch(
      /certificate 2 \(subject CN=www\.example\.com\) did not issue certificate 1 \(subject CN=Test Intermediate CA/,
    );
  });

  it('a chain that skips an issuer, and a chain that tls.ca does not lead to', () => {
    t.write('gap.pem', t.leaf.certPem + t.ca.certPem);
    expect(problem(t.inventory({ ...TLS, certificate: 'gap.pem' }), 'tls-chain').message).toMatch(
      /certificate 2 \(subject CN=Test Root CA\) did not issue certificate 1/,
    );
    const stranger = tlsFiles();
    try {
      t.write('stranger-ca.pem', stranger.ca.certPem);
      expect(problem(t.inventory({ ...TLS, ca: 'stranger-ca.pem' }), 'tls-ca').message).toMatch(
        /does not lead to a CA in tls\.ca: its last certificate \(subject CN=Test Intermediate CA\) was issued by CN=Test Root CA/,
      );
      expect(load(t.inventory({ ...TLS, ca: 'ca.pem' })).problems).toEqual([]);
    } finally {
      stranger.remove();
    }
  });

  it('unreadable, missing and wrong files are located problems, never a stack trace', () => {
    mkdirSync(join(t.dir, 'adir'));
    expect(problem(t.inventory({ ...TLS, key: 'adir' }), 'tls-file').message).toMatch(/adir \(.*adir\) is a directory/);
    expect(problem(t.inventory({ ...TLS, key: 'nope.key' }), 'tls-file')).toMatchObject({
      path: 'clusters[0].sites[0].tls.key',
      message: expect.stringMatching(/nope\.key \(.*\) does not exist/),
    });
    t.write('locked.key', t.leaf.keyPem);
    chmodSync(join(t.dir, 'locked.key'), 0o000);
    // root reads any file: the permission problem shows only for other users.
    if (process.getuid?.() !== 0)
      expect(problem(t.inventory({ ...TLS, key: 'locked.key' }), 'tls-file').message).toMatch(
        /is not readable \(permission denied\)/,
      );
    execFileSync('mkfifo', [join(t.dir, 'fifo.key')]);
    expect(problem(t.inventory({ ...TLS, key: 'fifo.key' }), 'tls-file').message).toMatch(/is not a regular file/);
    t.write('garbage.pem', 'hello\n');
    expect(problem(t.inventory({ ...TLS, certificate: 'garbage.pem' }), 'tls-file').message).toMatch(
      /holds no PEM certificate/,
    );
    expect(problem(t.inventory({ ...TLS, key: 'www.pem' }), 'tls-key').message).toMatch(
      /www\.pem holds no PEM private key/,
    );
  });

  it('a certificate file that also holds the key (it is written world-readable)', () => {
    t.write('both.pem', t.leaf.certPem + t.leaf.keyPem);
    expect(problem(t.inventory({ ...TLS, certificate: 'both.pem' }), 'tls-file').message).toMatch(
      /holds a private key as well/,
    );
  });

  it('an encrypted key, and both key and key_env given', () => {
    const enc = createPrivateKey(t.leaf.keyPem).export({
      type: 'pkcs8',
      format: 'pem',
      cipher: 'aes-256-cbc',
      passphrase: 'x',
    });
    t.write('enc.key', enc.toString());
    expect(problem(t.inventory({ ...TLS, key: 'enc.key' }), 'tls-key').message).toMatch(/encrypted with a passphrase/);
    expect(problem(t.inventory({ ...TLS, key_env: 'K' }), 'tls').message).toBe('give exactly one of key or key_env');
  });
});

describe('expiry warnings', () => {
  it('within 21 days warns; expiry_warning_days changes the threshold', () => {
    const soon = t.mint({ key: createPrivateKey(t.leaf.keyPem), notAfter: new Date(NOW.getTime() + 10 * DAY) });
    t.write('soon.pem', soon.certPem + t.intermediate.certPem);
    const warn = load(t.inventory({ ...TLS, certificate: 'soon.pem' }));
    expect(warn.inventory).toBeDefined();
    expect(warn.problems).toMatchObject([
      {
        severity: 'warning',
        rule: 'tls-expiry',
        message: expect.stringMatching(/expires on 2026-06-11, in 10 days \(warning under 21\)/),
      },
    ]);
    expect(load(t.inventory({ ...TLS, certificate: 'soon.pem', expiry_warning_days: 7 })).problems).toEqual([]);
  });
});

describe('TLS beside other sites on the VIPs', () => {
  const second = (site: Record<string, unknown>) => (d: ReturnType<typeof import('yaml').parseDocument>) => {
    d.addIn(['clusters', 0, 'sites'], d.createNode({ name: 'plain', vips: ['vip1'], backends: ['web1'], ...site }));
  };

  it('a plain site on the TLS port of the same VIP is refused', () => {
    const r = load(t.inventory(TLS, second({ server_names: ['other.example.com'], port: 443 })));
    expect(r.problems.map((p) => p.message).join('\n')).toMatch(
      /vip1:443 is served with TLS here and without it by sites\[1\]/,
    );
  });

  it('the redirect collides with a plain site serving the same name on port 80, unless it is off', () => {
    const path = t.inventory(TLS, second({ server_names: ['example.com'] }));
    expect(
      load(path)
        .problems.map((p) => p.message)
        .join('\n'),
    ).toMatch(/redirect of example\.com to HTTPS on vip1:80 collides with sites\[1\]/);
    expect(
      load(t.inventory({ ...TLS, redirect_http: false }, second({ server_names: ['example.com'] }))).problems,
    ).toEqual([]);
  });
});
