/**
 * HTTPS on the VIP against a `lab up --tls` lab (its own CA, a certificate for www.lab.test):
 * the key never printed and 0600 in a 0700 directory on the hosts; HTTPS through the VIP with
 * the lab CA, the redirect, TLS 1.1 refused; a certificate rotation under a 20 requests/s
 * HTTPS probe without one failed request and without touching keepalived; a key that does not
 * match refused before anything is written; a node left serving an old certificate named by
 * verify; failover-test over HTTPS within its bounds. The tests run in order on one lab.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { parse } from 'yaml';
import { mintCertificate } from '../../src/lab/tls-mint.js';
import type { failoverJson } from '../../src/ui/failover-view.js';
import { inHost, putFile, service, startProbe, summarizeProbe, useLab, waitFor } from './helpers/index.js';
import {
  deployCli,
  hactl,
  hostOf,
  inventoryVariant,
  jsonOf,
  removeScratch,
  scratchDir,
  snapshots,
  type CliResult,
} from './helpers/deploy.js';

const lab = useLab({ tls: true });
afterAll(removeScratch);

const SITE = 'www.lab.test';
const HEALTH = '/webserver.html';
const LBS = ['lb1', 'lb2'];
const CRT = '/etc/hactl/tls/www.crt';
const KEY = '/etc/hactl/tls/www.key';
const vip = () => lab.state.clusters[0].vips[0].ip;
const inv = () => lab.state.files.inventory;
const ca = () => lab.state.files.tls!.ca;
const said = (r: CliResult) => ({ exit: r.exitCode, output: `${r.stdout}\n${r.stderr}`.slice(-4000) });

/** The lines of a PEM key's body: none may appear in any output. */
const keyLines = (pem: string) => pem.split('\n').filter((l) => l.length > 16 && !l.startsWith('-----'));
function expectNoKey(r: CliResult, ...keys: string[]): void {
  const out = `${r.stdout}\n${r.stderr}`;
  for (const k of keys) for (const line of keyLines(k)) expect(out).not.toContain(line);
  expect(out).not.toMatch(/BEGIN (EC )?PRIVATE KEY/);
}

/** curl from this machine to the site through the VIP, trusting only the lab CA. */
const curl = (...args: string[]) =>
  execa('curl', ['-sS', '--cacert', ca(), '--resolve', `${SITE}:443:${vip()}`, '-m', '5', ...args], { reject: false });

/** A certificate for www.lab.test from the lab's own CA (its key is in the lab directory). */
function renewed(tag: string): { certificate: string; key: string; certPem: string; keyPem: string } {
  const files = lab.state.files.tls!;
  const issuer = { certPem: readFileSync(files.ca, 'utf8'), key: createPrivateKey(readFileSync(files.caKey, 'utf8')) };
  const leaf = mintCertificate({ commonName: SITE, sans: [SITE], issuer });
  const certificate = join(scratchDir(), `${tag}.pem`);
  const key = join(scratchDir(), `${tag}.key`);
  writeFileSync(certificate, leaf.certPem);
  writeFileSync(key, leaf.keyPem, { mode: 0o600 });
  return { certificate, key, certPem: leaf.certPem, keyPem: leaf.keyPem };
}

/** The lab inventory with the site's certificate and key replaced (absolute paths). */
const withCert = (tag: string, c: { certificate: string; key: string }) =>
  inventoryVariant(lab.state, tag, (d) => {
    d.clusters[0].sites[0].tls.certificate = c.certificate;
    d.clusters[0].sites[0].tls.key = c.key;
    d.clusters[0].sites[0].tls.ca = ca();
  });

const labKey = () => readFileSync(lab.state.files.tls!.key, 'utf8');
const fingerprint = (pem: string) => new X509Certificate(pem).fingerprint256;

/** Waits until nginx on `lb` runs only workers started after `old` (the old ones finished their requests). */
async function oldWorkersGone(lb: string, old: number[]): Promise<void> {
  await waitFor(
    async () => {
      const w = await inHost(lab.state, lb, 'pgrep -P "$(cat /run/nginx.pid)" | tr "\\n" " "');
      const now = w.stdout.trim().split(/\s+/).filter(Boolean).map(Number);
      return now.length > 0 && now.every((pid) => !old.includes(pid));
    },
    { timeoutMs: 30_000, what: `${lb}'s old nginx workers to exit` },
  );
}

describe('HTTPS on a lab with its own CA', () => {
  test('the lab inventory has a TLS site with the lab CA', () => {
    const doc = parse(readFileSync(inv(), 'utf8'));
    expect(doc.clusters[0].sites[0]).toMatchObject({
      port: 443,
      tls: { certificate: 'tls/www.pem', key: 'tls/www.key', ca: 'ca.pem' },
    });
  });

  test('deploy never prints the key (plain, --dry-run, --json, --verbose); on the hosts it is root 0600 in a 0700 directory', async () => {
    const dry = await deployCli(inv(), '--dry-run');
    expect(said(dry)).toMatchObject({ exit: 0 });
    expect(dry.stdout).toMatch(/create \/etc\/hactl\/tls\/www\.key \(absent, key \(fingerprint [0-9A-F:]{95}\)\)/);
    const dryJson = await deployCli(inv(), '--dry-run', '--json');
    expect(jsonOf(dryJson)).toMatchObject({ ok: true, dryRun: true });
    const plain = await deployCli(inv(), '--yes', '--verbose');
    expect(said(plain)).toMatchObject({ exit: 0 });
    const json = await deployCli(inv(), '--yes', '--json');
    expect(jsonOf(json)).toMatchObject({ ok: true, message: 'nothing to change on 2 host(s)' });
    for (const r of [dry, dryJson, plain, json]) expectNoKey(r, labKey());
    for (const lb of LBS) {
      const st = await inHost(lab.state, lb, `stat -c '%a %U:%G' /etc/hactl/tls ${KEY} ${CRT}`);
      expect(st.stdout.trim().split('\n')).toEqual(['700 root:root', '600 root:root', '644 root:root']);
      const k = await inHost(lab.state, lb, `cat ${KEY}`);
      expect(k.stdout).toBe(labKey());
    }
  }, 120_000);

  test('HTTPS through the VIP with the lab CA (HTTP/2), the redirect from port 80, TLS 1.1 refused', async () => {
    const ok = await curl('-o', '/dev/null', '-w', '%{http_code} %{http_version}', `https://${SITE}${HEALTH}`);
    expect({ out: ok.stdout, err: ok.stderr }).toEqual({ out: '200 2', err: '' });
    const tls12 = await curl('--tls-max', '1.2', '-o', '/dev/null', '-w', '%{http_code}', `https://${SITE}${HEALTH}`);
    expect(tls12.stdout).toBe('200');
    const redirect = await execa(
      'curl',
      [
        '-sS',
        '-m',
        '5',
        '-o',
        '/dev/null',
        '-w',
        '%{http_code} %{redirect_url}',
        '-H',
        `Host: ${SITE}`,
        `http://${vip()}/a?b=1`,
      ],
      { reject: false },
    );
    expect(redirect.stdout).toBe(`301 https://${SITE}/a?b=1`);
    // The client allows TLS 1.1 (below OpenSSL 3's default level, so SECLEVEL=0); nginx refuses it.
    const old = await curl('--tlsv1.1', '--tls-max', '1.1', '--ciphers', 'DEFAULT@SECLEVEL=0', `https://${SITE}/`);
    expect(old.exitCode).toBe(35);
    expect(old.stderr).toMatch(/alert protocol version/);
    const v = await hactl(['verify', '-i', inv(), '--json']);
    expect(said(v)).toMatchObject({ exit: 0 });
    const kinds = (JSON.parse(v.stdout) as { checks: { kind: string; ok: boolean }[] }).checks
      .filter((c) => c.kind.startsWith('tls-'))
      .map((c) => `${c.kind} ${c.ok}`);
    expect(kinds).toEqual(['tls-cert true', 'tls-chain true', 'tls-expiry true', 'tls-redirect true']);
    const st = await hactl(['status', '-i', inv()]);
    expect(st.stdout).toMatch(/nearest certificate expiry: www on lb[12], \d{4}-\d\d-\d\d \(in (89|90) days\)/);
  }, 60_000);

  test('a rotation under a 20 requests/s HTTPS probe: nginx reloads only, not one request fails', async () => {
    const next = renewed('rotated');
    const rotated = withCert('rotated', next);
    const before = await snapshots(lab.state, LBS, [CRT, KEY]);
    const p = startProbe({
      ip: vip(),
      port: 443,
      path: HEALTH,
      hostHeader: SITE,
      tls: { servername: SITE, ca: readFileSync(ca(), 'utf8') },
      ratePerSec: 20,
      durationMs: 120_000,
      timeoutMs: 3000,
    });
    let r: CliResult;
    try {
      r = await deployCli(rotated, '--yes', '--json');
      // Old workers finish their requests gracefully, then exit: the probe runs until they have.
      for (const lb of LBS) await oldWorkersGone(lb, before[lb].nginxWorkers);
    } catch (e) {
      await p.stop();
      throw e;
    }
    const summary = summarizeProbe(await p.stop());
    expect(said(r)).toMatchObject({ exit: 0 });
    const j = jsonOf(r);
    for (const lb of LBS)
      expect(hostOf(j, lb)).toMatchObject({ status: 'changed', filesChanged: [CRT, KEY], servicesReloaded: ['nginx'] });
    expect(j.plans.flatMap((x) => x.files.map((f) => f.path))).toEqual([CRT, KEY, CRT, KEY]);
    expectNoKey(r, labKey(), next.keyPem);
    const after = await snapshots(lab.state, LBS, [CRT, KEY]);
    for (const lb of LBS) expect(after[lb].keepalived).toEqual(before[lb].keepalived);
    expect({ failed: summary.failed, errors: summary.errors }).toEqual({ failed: 0, errors: {} });
    expect(summary.sent).toBeGreaterThan(10);
    console.log(`rotation under probe: ${summary.sent} HTTPS requests, ${summary.failed} failed`);
    const v = await hactl(['verify', '-i', rotated, '--json']);
    const cert = (
      JSON.parse(v.stdout) as { checks: { kind: string; ok: boolean; data?: { expected: string } }[] }
    ).checks.find((c) => c.kind === 'tls-cert')!;
    expect(cert).toMatchObject({ ok: true, data: { expected: fingerprint(next.certPem) } });
  }, 180_000);

  test('a certificate that does not match its key: refused before anything is written', async () => {
    const a = renewed('mismatch-a');
    const b = renewed('mismatch-b');
    const bad = withCert('mismatch', { certificate: a.certificate, key: b.key });
    const before = await snapshots(lab.state, LBS, [CRT, KEY]);
    for (const flags of [['--yes'], ['--yes', '--json'], ['--dry-run'], ['--yes', '--verbose']]) {
      const r = await deployCli(bad, ...flags);
      expect(said(r)).toMatchObject({ exit: 2 });
      expect(`${r.stdout}${r.stderr}`).toMatch(
        /\[tls-key\] clusters\[0\]\.sites\[0\]\.tls\.key: the key does not match the certificate/,
      );
      expectNoKey(r, a.keyPem, b.keyPem);
    }
    const after = await snapshots(lab.state, LBS, [CRT, KEY]);
    for (const lb of LBS) expect(after[lb].files).toEqual(before[lb].files);
  }, 60_000);

  test('a node left with an old certificate (edited by hand): verify names it; deploy puts it right', async () => {
    const rotated = join(scratchDir(), 'inventory-rotated.yaml');
    // lb1 holds the VIP: put the lab's first certificate back there by hand and reload nginx.
    await putFile(lab.state, 'lb1', CRT, readFileSync(lab.state.files.tls!.certificate, 'utf8'));
    await putFile(lab.state, 'lb1', KEY, labKey(), '0600');
    await service(lab.state, 'lb1', 'nginx', 'reload');
    await waitFor(
      async () => {
        const v = await hactl(['verify', '-i', rotated]);
        return v.exitCode === 1 && /tls-cert .*FAIL +serves the wrong certificate via lb1/.test(v.stdout)
          ? v
          : undefined;
      },
      { timeoutMs: 20_000, intervalMs: 500, what: 'verify to see the old certificate on lb1' },
    );
    const v = await hactl(['verify', '-i', rotated]);
    expect(v.stdout).toMatch(
      /drift +lb1:\/etc\/hactl\/tls\/www\.crt +FAIL +differs from the inventory \(certificate changed\)/,
    );
    expect(v.stdout).toMatch(/drift +lb2:\/etc\/hactl\/tls\/www\.crt +ok/);
    expectNoKey(v, labKey());
    const fix = await deployCli(rotated, '--yes');
    expect(said(fix)).toMatchObject({ exit: 0 });
    expect(fix.stdout).toMatch(/lab1\/lb1 +changed/);
    expect((await hactl(['verify', '-i', rotated])).exitCode).toBe(0);
  }, 120_000);

  test.each(['stop-nginx', 'kill-keepalived'])(
    'failover-test over HTTPS: %s within its bound',
    async (fault) => {
      const rotated = join(scratchDir(), 'inventory-rotated.yaml');
      const r = await hactl(['failover-test', '-i', rotated, '--fault', fault, '--yes', '--json'], 240_000);
      expect(r.stderr).toMatch(new RegExp(`${fault}: probing https://${SITE.replace(/\./g, '\\.')}${HEALTH} via`));
      const doc = JSON.parse(r.stdout) as ReturnType<typeof failoverJson>;
      const f = doc.faults[0];
      const what = JSON.stringify({ ...f, probes: undefined });
      console.log(
        `failover-test over HTTPS, ${fault}: downtime ${f.downtimeMs} ms, bound ${f.boundMs} ms (+${f.marginMs} margin), ${f.failedRequests}/${f.totalRequests} failed`,
      );
      expect({ what, pass: f.pass, within: f.downtimeMs <= f.boundMs + f.marginMs, newMaster: f.newMaster }).toEqual({
        what,
        pass: true,
        within: true,
        newMaster: 'lb2',
      });
      // The backup answered over HTTPS while the VIP was on it.
      expect(f.probes.some((x) => x.ok && x.lb === 'lb2')).toBe(true);
      expect(f.totalRequests).toBeGreaterThan(20);
      expect({ exit: r.exitCode, ok: doc.ok, after: doc.after?.ok }).toEqual({ exit: 0, ok: true, after: true });
    },
    240_000,
  );
});
