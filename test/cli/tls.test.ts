/**
 * HTTPS through the commands, in-process against sandbox hosts: deploy pushes the certificate
 * and key (0600 in a 0700 directory) and never prints the key, whatever the output mode; a key
 * that does not match is refused before anything is written; verify checks what each VIP
 * serves and names a node serving a certificate edited by hand; status shows the nearest expiry.
 */
import { cpSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Deploy from '../../commands/deploy.js';
import Render from '../../commands/render.js';
import Status from '../../commands/status.js';
import Validate from '../../commands/validate.js';
import Verify from '../../commands/verify.js';
import type { CommandContext } from '../../src/cli/context.js';
import { mintCertificate, newKey } from '../../src/lab/tls-mint.js';
import { runCommand, type CliRun } from '../helpers/cli.js';
import { fixturePath, loadValid, TEST_ENV } from '../helpers/inventory.js';
import { Sandbox } from '../helpers/sandbox.js';

const INV = fixturePath('tls.yaml');
const KEYS = ['www.key', 'api.key'].map((k) => readFileSync(fixturePath(`tls/${k}`), 'utf8'));
/** Every line of either key's body: none may appear in any output. */
const KEY_LINES = KEYS.flatMap((k) => k.split('\n').filter((l) => l.length > 16 && !l.startsWith('-----')));

let sb: Sandbox;
let dir: string;
beforeEach(() => {
  sb = Sandbox.forInventory(loadValid(INV));
  dir = mkdtempSync(join(tmpdir(), 'hactl-cli-tls-'));
});
afterEach(() => {
  sb.remove();
  rmSync(dir, { recursive: true, force: true });
});

const ctx = (): Partial<CommandContext> => ({ connect: () => sb.connector(), http: sb.http(), env: { ...TEST_ENV } });
const mode = (host: string, path: string) => (statSync(join(sb.host(host).rootPrefix, path)).mode & 0o777).toString(8);

function expectNoKey(r: CliRun): void {
  const out = `${r.stdout}\n${r.stderr}`;
  for (const line of KEY_LINES) expect(out).not.toContain(line);
  expect(out).not.toMatch(/BEGIN (EC )?PRIVATE KEY/);
}

describe('deploy', () => {
  test('the key is in no output: plain, --dry-run, --json, --verbose; the plan says what changes', async () => {
    const dry = await runCommand(Deploy, ['-i', INV, '--dry-run'], ctx());
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/create \/etc\/hactl\/tls\/www\.key \(absent, key \(fingerprint [0-9A-F:]{95}\)\)/);
    expect(dry.stdout).toMatch(
      /\+certificate: subject CN=www\.example\.com, SANs www\.example\.com, example\.com, expires 2126-01-01/,
    );
    const json = await runCommand(Deploy, ['-i', INV, '--dry-run', '--json'], ctx());
    expect(json.json).toMatchObject({ ok: true, dryRun: true });
    const verbose = await runCommand(Deploy, ['-i', INV, '--yes', '--verbose'], ctx());
    expect(verbose.code).toBe(0);
    const again = await runCommand(Deploy, ['-i', INV, '--yes', '--json'], ctx());
    expect(again.json).toMatchObject({ ok: true, message: 'nothing to change on 2 host(s)' });
    for (const r of [dry, json, verbose, again]) expectNoKey(r);
    for (const lb of ['lb1', 'lb2']) {
      expect(sb.host(lb).read('/etc/hactl/tls/www.key')).toBe(KEYS[0]);
      expect(mode(lb, '/etc/hactl/tls/www.key')).toBe('600');
      expect(mode(lb, '/etc/hactl/tls')).toBe('700');
      expect(mode(lb, '/etc/hactl/tls/www.crt')).toBe('644');
    }
  });

  test('a key that does not match its certificate: refused before anything is written (exit 2, located)', async () => {
    cpSync(fixturePath('tls'), join(dir, 'tls'), { recursive: true });
    const other = newKey().export({ type: 'pkcs8', format: 'pem' }).toString();
    writeFileSync(join(dir, 'tls', 'www.key'), other);
    const inv = join(dir, 'inventory.yaml');
    writeFileSync(inv, readFileSync(INV, 'utf8'));
    for (const args of [['--yes'], ['--yes', '--json'], ['--dry-run']]) {
      const r = await runCommand(Deploy, ['-i', inv, ...args], ctx());
      expect(r.code).toBe(2);
      expect(`${r.stdout}${r.stderr}`).toMatch(
        /inventory\.yaml:2\d:\d+ error \[tls-key\] clusters\[0\]\.sites\[0\]\.tls\.key: the key does not match the certificate/,
      );
      for (const line of other.split('\n').filter((l) => l.length > 16 && !l.startsWith('-----')))
        expect(`${r.stdout}${r.stderr}`).not.toContain(line);
    }
    expect(sb.journal).toEqual([]);
    const v = await runCommand(Validate, ['-i', inv, '--json'], ctx());
    expect(v.code).toBe(2);
    expect(v.json).toMatchObject({ ok: false, problems: [expect.objectContaining({ rule: 'tls-key' })] });
  });
});

test('render writes the key 0600 in a 0700 directory, and prints no key', async () => {
  const out = join(dir, 'out');
  const r = await runCommand(Render, ['-i', INV, '--out', out], ctx());
  expect(r.code).toBe(0);
  expectNoKey(r);
  const m = (p: string) => (statSync(join(out, 'lb1', p)).mode & 0o777).toString(8);
  expect([m('/etc/hactl/tls'), m('/etc/hactl/tls/www.key'), m('/etc/hactl/tls/www.crt')]).toEqual([
    '700',
    '600',
    '644',
  ]);
});

describe('verify and status', () => {
  test('after a deploy every TLS check passes; a certificate edited by hand on the master is named', async () => {
    expect((await runCommand(Deploy, ['-i', INV, '--yes'], ctx())).code).toBe(0);
    const ok = await runCommand(Verify, ['-i', INV, '--json'], ctx());
    expect(ok.code).toBe(0);
    const checks = ok.json!.checks as { kind: string; target: string; ok: boolean; detail: string }[];
    expect(checks.filter((c) => c.kind.startsWith('tls-')).map((c) => `${c.kind} ${c.target}`)).toEqual([
      'tls-cert this machine → https://www.example.com via 10.0.0.100',
      'tls-cert this machine → https://example.com via 10.0.0.100',
      'tls-chain this machine → https://www.example.com via 10.0.0.100',
      'tls-expiry this machine → https://www.example.com via 10.0.0.100',
      'tls-redirect this machine → http://www.example.com/healthz via 10.0.0.100:80',
      'tls-cert this machine → https://api.example.com via 10.0.0.100',
      'tls-chain this machine → https://api.example.com via 10.0.0.100',
      'tls-expiry this machine → https://api.example.com via 10.0.0.100',
    ]);

    const old = mintCertificate({ commonName: 'www.example.com', sans: ['www.example.com', 'example.com'] });
    sb.host('lb1').write('/etc/hactl/tls/www.crt', old.certPem);
    const bad = await runCommand(Verify, ['-i', INV], ctx());
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(
      /tls-cert +this machine → https:\/\/www\.example\.com via 10\.0\.0\.100 +FAIL +serves the wrong certificate via lb1/,
    );
    expect(bad.stdout).toMatch(
      /drift +lb1:\/etc\/hactl\/tls\/www\.crt +FAIL +differs from the inventory \(certificate changed\)/,
    );
    expect(bad.stdout).toMatch(/drift +lb2:\/etc\/hactl\/tls\/www\.crt +ok/);
    expectNoKey(bad);

    const st = await runCommand(Status, ['-i', INV, '--json'], ctx());
    expect(st.json!.certificates).toEqual([expect.objectContaining({ cluster: 'web', site: 'www', lb: 'lb1' })]);
  });

  test('verify without the key (key_env unset here) compares the key file by mode only', async () => {
    cpSync(fixturePath('tls'), join(dir, 'tls'), { recursive: true });
    const inv = join(dir, 'inventory.yaml');
    writeFileSync(inv, readFileSync(INV, 'utf8').replace('key: tls/www.key', 'key_env: WWW_TLS_KEY'));
    const withKey = { ...ctx(), env: { ...TEST_ENV, WWW_TLS_KEY: KEYS[0] } };
    expect((await runCommand(Deploy, ['-i', inv, '--yes'], withKey)).code).toBe(0);
    const r = await runCommand(Verify, ['-i', inv], ctx());
    expect(r.stdout).toMatch(
      /drift +lb1:\/etc\/hactl\/tls\/www\.key +ok +matches the inventory \(content not compared: \$WWW_TLS_KEY is not set here\)/,
    );
    expect(r.code).toBe(0);
  });
});
