/**
 * Day-2 commands in-process against sandbox hosts (the real scripts under sh): releases
 * recorded by deploy, `hactl releases`, `hactl rollback`, the VRID census before a first
 * deploy, verify's hook checks and its Prometheus and Nagios formats.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Deploy from '../../commands/deploy.js';
import Releases from '../../commands/releases.js';
import Rollback from '../../commands/rollback.js';
import Verify from '../../commands/verify.js';
import type { CommandContext } from '../../src/cli/context.js';
import { runCommand } from '../helpers/cli.js';
import { fixturePath, loadValid, TEST_ENV } from '../helpers/inventory.js';
import { parsePromText } from '../helpers/prom-text.js';
import { Sandbox } from '../helpers/sandbox.js';

const INV = fixturePath('active-passive.yaml');
const REL = '/var/lib/hactl/releases';
let sb: Sandbox;
let dir: string;
let clock = Date.parse('2026-12-01T10:00:00Z');
beforeEach(() => {
  sb = Sandbox.forInventory(loadValid(INV));
  dir = mkdtempSync(join(tmpdir(), 'hactl-cli-day2-'));
});
afterEach(() => {
  sb.remove();
  rmSync(dir, { recursive: true, force: true });
});

const ctx = (over: Partial<CommandContext> = {}): Partial<CommandContext> => ({
  connect: () => sb.connector(),
  http: sb.http(),
  env: { ...TEST_ENV },
  // Each run a minute later: release ids sort by time.
  now: () => new Date((clock += 60_000)),
  who: () => 'ops@laptop',
  ...over,
});

/** The inventory with other text: B has the site on web1 only. */
function variant(name: string, edit: (s: string) => string): string {
  const path = join(dir, `${name}.yaml`);
  writeFileSync(path, edit(readFileSync(INV, 'utf8')));
  return path;
}
const B = () => variant('b', (s) => s.replace('backends: [web1, web2, web3]', 'backends: [web1]'));
const files = (host: string) =>
  Object.fromEntries(
    ['/etc/keepalived/keepalived.conf', '/etc/nginx/conf.d/hactl-web.conf', '/etc/keepalived/hactl-notify.sh'].map(
      (p) => [p, sb.host(host).read(p)],
    ),
  );
const ls = (host: string, path: string) => readdirSync(join(sb.host(host).rootPrefix, path)).sort();

describe('releases', () => {
  test('deploy records one release id on every host it changes, root-only, with no secret in the manifest', async () => {
    const r = await runCommand(Deploy, ['-i', INV, '--yes', '--json'], ctx());
    expect(r.code).toBe(0);
    const ids = (r.json!.hosts as { release: string }[]).map((h) => h.release);
    expect(ids[0]).toMatch(/^20261201T\d{6}Z-[0-9a-f]{4}$/);
    expect(ids[1]).toBe(ids[0]);
    for (const host of ['lb1', 'lb2']) {
      const root = sb.host(host).rootPrefix;
      expect(statSync(join(root, REL)).mode & 0o777).toBe(0o700);
      expect(statSync(join(root, REL, ids[0], 'files/etc/keepalived/keepalived.conf')).mode & 0o777).toBe(0o600);
      expect(sb.host(host).read(`${REL}/${ids[0]}/files/etc/keepalived/keepalived.conf`)).toBe(
        sb.host(host).read('/etc/keepalived/keepalived.conf'),
      );
      const manifest = sb.host(host).read(`${REL}/${ids[0]}/manifest`)!;
      expect(manifest).toMatch(/^who ops@laptop$/m);
      expect(manifest).toMatch(/^plan lb1 changed$/m);
      expect(manifest).not.toContain('s3cret');
      expect(sb.host(host).read(`${REL}/current`)).toBe(`${ids[0]}\n`);
    }
    const again = await runCommand(Deploy, ['-i', INV, '--yes', '--json'], ctx());
    expect(again.json).toMatchObject({ message: 'nothing to change on 2 host(s)' });
    expect(ls('lb1', REL).filter((n) => /^\d/.test(n))).toEqual([ids[0]]);
  });

  test('releases past releases.keep go, the newest first kept', async () => {
    const keep2 = (n: number) =>
      variant(`keep${n}`, (s) =>
        `releases: { keep: 2 }\n${s}`.replace('backends: [web1, web2, web3]', `backends: [web${n}]`),
      );
    const ids: string[] = [];
    for (const n of [1, 2, 3]) {
      const r = await runCommand(Deploy, ['-i', keep2(n), '--yes', '--json'], ctx());
      ids.push((r.json!.hosts as { release: string }[])[0].release);
    }
    for (const host of ['lb1', 'lb2']) expect(ls(host, REL).filter((n) => /^\d/.test(n))).toEqual(ids.slice(1));
    expect(sb.host('lb1').read(`${REL}/history`)!.trim().split('\n')).toHaveLength(3);
  });

  test('a release exists only where its files were applied: refused by a validator, or not recordable, nothing stays', async () => {
    const bad = variant('invalid', (s) =>
      s.replace('health_path: /healthz', 'health_path: /healthz, extra: ["hactl_invalid on"]'),
    );
    const r = await runCommand(Deploy, ['-i', bad, '--yes', '--json'], ctx());
    expect(r.json).toMatchObject({ ok: false, phase: 'apply' });
    expect(sb.host('lb2').read(`${REL}/current`)).toBeUndefined();
    await runCommand(Deploy, ['-i', INV, '--yes'], ctx());
    const a = files('lb2');
    const current = sb.host('lb2').read(`${REL}/current`);
    // The release cannot be written (its directory's name is taken by a file): the files go back.
    rmSync(join(sb.host('lb2').rootPrefix, REL), { recursive: true });
    sb.host('lb2').write(REL, 'not a directory\n');
    const b = await runCommand(Deploy, ['-i', B(), '--yes', '--json'], ctx());
    expect(b.json).toMatchObject({ ok: false, phase: 'apply' });
    const lb2 = (b.json!.hosts as { host: string; error: string }[]).find((h) => h.host === 'lb2')!;
    expect(lb2.error).toMatch(
      /writing a file failed; the previous files were restored[\s\S]*cannot create the releases directory/,
    );
    expect(files('lb2')).toEqual(a);
    expect(current).toMatch(/^\d{8}T/);
  });

  test('hactl releases lists them per cluster, newest first, current marked, and never prints a file', async () => {
    await runCommand(Deploy, ['-i', INV, '--yes'], ctx());
    await runCommand(Deploy, ['-i', B(), '--yes'], ctx());
    const r = await runCommand(Releases, ['-i', INV, '--json'], ctx());
    expect(r.code).toBe(0);
    const [c] = r.json!.clusters as { current: string; rows: { id: string; hosts: string[]; current: boolean }[] }[];
    expect(c.rows).toHaveLength(2);
    expect(c.rows[0]).toMatchObject({ id: c.current, hosts: ['lb1', 'lb2'], current: true });
    expect(c.rows[1].id < c.rows[0].id).toBe(true);
    const text = await runCommand(Releases, ['-i', INV], ctx());
    expect(text.stdout).toMatch(/cluster web: on \d{8}T/);
    expect(text.stdout + text.stderr).not.toContain('s3cret');
  });

  test('rollback: back to the previous release byte for byte; releases says so; deploy shows it as drift', async () => {
    await runCommand(Deploy, ['-i', INV, '--yes'], ctx());
    const a = { lb1: files('lb1'), lb2: files('lb2') };
    await runCommand(Deploy, ['-i', B(), '--yes'], ctx());
    expect(files('lb1')['/etc/nginx/conf.d/hactl-web.conf']).not.toBe(a.lb1['/etc/nginx/conf.d/hactl-web.conf']);
    const dry = await runCommand(Rollback, ['-i', B(), '--dry-run'], ctx());
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/roll back to \d{8}T\d{6}Z-[0-9a-f]{4}: update \/etc\/nginx\/conf.d\/hactl-web.conf/);
    expect(dry.stdout).toMatch(/\+\s+server 10\.0\.1\.22:8080/);
    const before = sb.applied().length;
    const r = await runCommand(Rollback, ['-i', B(), '--yes', '--json'], ctx());
    expect(r.code).toBe(0);
    expect(sb.applied().slice(before)).toEqual(['lb2', 'lb1']);
    expect({ lb1: files('lb1'), lb2: files('lb2') }).toEqual(a);
    const [c] = (await runCommand(Releases, ['-i', INV, '--json'], ctx())).json!.clusters as {
      current: string;
      rows: { id: string }[];
    }[];
    expect(c.current).toBe(c.rows[1].id);
    expect((r.json!.targets as { to: string }[])[0].to).toBe(c.rows[1].id);
    const drift = await runCommand(Deploy, ['-i', B(), '--dry-run', '--json'], ctx());
    expect(drift.json).toMatchObject({ message: '2 host(s) would change (dry run: nothing was changed)' });
  });

  test('rollback on a host whose release directory was removed by hand: that host fails preflight, nothing changes', async () => {
    await runCommand(Deploy, ['-i', INV, '--yes'], ctx());
    await runCommand(Deploy, ['-i', B(), '--yes'], ctx());
    const [first] = ls('lb2', REL).filter((n) => /^\d/.test(n));
    rmSync(join(sb.host('lb2').rootPrefix, REL, first), { recursive: true });
    const before = { lb1: files('lb1'), lb2: files('lb2'), applied: sb.applied().length };
    const r = await runCommand(Rollback, ['-i', INV, '--yes', '--json'], ctx());
    expect(r.code).toBe(1);
    expect(r.json).toMatchObject({ ok: false, phase: 'preflight' });
    const lb2 = (r.json!.hosts as { host: string; error: string }[]).find((h) => h.host === 'lb2')!;
    expect(lb2.error).toContain(`lb2 has no release ${first}: ${REL}/${first} is not there`);
    expect({ lb1: files('lb1'), lb2: files('lb2'), applied: sb.applied().length }).toEqual(before);
    const rel = await runCommand(Releases, ['-i', INV], ctx());
    expect(rel.code).toBe(0);
    expect(rel.stdout).toMatch(/missing on lb2/);
  });

  test('a release rendered for other keepalived features than the host now runs: refused before any change', async () => {
    await runCommand(Deploy, ['-i', INV, '--yes'], ctx());
    // lb1's keepalived is downgraded by hand to 2.1.5, which has no reload_check_config.
    const bin = join(sb.host('lb1').state, 'bin', 'keepalived');
    rmSync(bin);
    writeFileSync(
      bin,
      '#!/bin/sh\n[ "$1" = --version ] && { echo "Keepalived v2.1.5 (07/13,2020)" >&2; exit 0; }\nexec "$HACTL_SANDBOX_BIN/managed/keepalived" "$@"\n',
      { mode: 0o755 },
    );
    await runCommand(Deploy, ['-i', B(), '--yes'], ctx());
    const applied = sb.applied().length;
    const r = await runCommand(Rollback, ['-i', INV, '--yes', '--json'], ctx());
    expect(r.code).toBe(1);
    const lb1 = (r.json!.hosts as { host: string; error: string }[]).find((h) => h.host === 'lb1')!;
    expect(lb1.error).toMatch(
      /was rendered for keepalived 2\.2\.7, nginx 1\.22\.1, this host runs keepalived 2\.1\.5, nginx 1\.22\.1, and the files differ between them \(reload_check_config, keepalived 2\.2 and later[;)]/,
    );
    expect(sb.applied().length).toBe(applied);
  });

  test('the plan of a rollback masks the VRRP passwords of both releases', async () => {
    await runCommand(Deploy, ['-i', INV, '--yes'], ctx());
    const other = variant('newpass', (s) => s.replace('pass: s3cret', 'pass: n3wpass1'));
    await runCommand(Deploy, ['-i', other, '--yes'], ctx());
    const dry = await runCommand(Rollback, ['-i', other, '--dry-run'], ctx());
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/-\s+auth_pass \[REDACTED\]/);
    expect(dry.stdout).toMatch(/\+\s+auth_pass \[REDACTED\]/);
    expect(dry.stdout + dry.stderr).not.toMatch(/s3cret|n3wpass1/);
  });

  test('rollback with no earlier release, or an unknown --to: a usage error', async () => {
    await runCommand(Deploy, ['-i', INV, '--yes'], ctx());
    const r = await runCommand(Rollback, ['-i', INV, '--yes', '--json'], ctx());
    expect(r.code).toBe(2);
    expect(r.json).toMatchObject({ error: { code: 'usage', message: expect.stringMatching(/no release before/) } });
    const bad = await runCommand(Rollback, ['-i', INV, '--to', 'x; rm -rf /', '--yes'], ctx());
    expect(bad.code).toBe(2);
  });
});

describe('VRID census before the first deploy', () => {
  const advert = (line: string) => writeFileSync(join(sb.net, 'adverts'), `${line}\n`);

  test('an advert with the VIP VRID from outside the cluster: refused, nothing changed, address and priority named', async () => {
    advert('vrrp eth0 10.0.0.9 51 120 10.0.0.250');
    const r = await runCommand(Deploy, ['-i', INV, '--yes', '--json'], ctx());
    expect(r.code).toBe(1);
    expect(r.json).toMatchObject({ ok: false, phase: 'preflight' });
    expect(r.json!.message).toMatch(/VRID 51 \(vip1\) is already advertised by 10\.0\.0\.9, priority 120/);
    expect(sb.applied()).toEqual([]);
    const forced = await runCommand(Deploy, ['-i', INV, '--yes', '--force-vrid', '--json'], ctx());
    expect(forced.code).toBe(0);
  });

  test('--force-vrid without --yes asks; no terminal: refused', async () => {
    advert('vrrp eth0 10.0.0.9 51 120 10.0.0.250');
    const r = await runCommand(Deploy, ['-i', INV, '--force-vrid', '--json'], ctx());
    expect(r.code).toBe(2);
    expect(sb.applied()).toEqual([]);
  });

  test('another VRID, or the cluster own nodes: the deploy proceeds; a deployed cluster is not listened to', async () => {
    advert('vrrp eth0 10.0.0.9 77 120 10.0.0.250\nvrrp eth0 10.0.0.12 51 100 10.0.0.100');
    const r = await runCommand(Deploy, ['-i', INV, '--yes', '--json'], ctx());
    expect(r.code).toBe(0);
    expect((r.json!.census as { othersInUse: unknown[] }[])[0].othersInUse).toEqual([
      { vrid: 77, from: '10.0.0.9', heardOn: 'lb1' },
    ]);
    advert('vrrp eth0 10.0.0.9 51 120 10.0.0.250');
    const again = await runCommand(Deploy, ['-i', INV, '--yes', '--json'], ctx());
    expect(again.json).toMatchObject({ ok: true, census: [] });
    const v = await runCommand(Verify, ['-i', INV, '--census', '--json'], ctx());
    expect(v.code).toBe(1);
    expect(JSON.stringify(v.json)).toMatch(/VRID 51 \(vip1\) is already advertised by 10\.0\.0\.9/);
  });
});

describe('verify: hooks and monitoring formats', () => {
  const HOOKED = () =>
    variant('hooked', (s) =>
      s.replace(
        'vrrp: { auth: { type: PASS, pass: s3cret } }',
        'vrrp: { auth: { type: PASS, pass: s3cret } }\n    notify: { command: /usr/local/bin/page-oncall }',
      ),
    );

  test('the hook command must exist and be executable on every node', async () => {
    const inv = HOOKED();
    await runCommand(Deploy, ['-i', inv, '--yes'], ctx());
    sb.host('lb1').write('/usr/local/bin/page-oncall', '#!/bin/sh\n');
    const v = await runCommand(Verify, ['-i', inv, '--json'], ctx());
    expect(v.code).toBe(1);
    const hooks = (v.json!.checks as { kind: string; target: string; ok: boolean; detail: string }[]).filter(
      (c) => c.kind === 'hook',
    );
    expect(hooks.map((c) => [c.target, c.ok])).toEqual([
      ['lb1 /usr/local/bin/page-oncall', false],
      ['lb2 /usr/local/bin/page-oncall', false],
    ]);
    expect(hooks[0].detail).toMatch(/is not an executable file/);
    expect(hooks[1].detail).toMatch(/does not exist/);
  });

  test('--format prometheus: the exposition parses strictly; healthy gives ok 1, the master MASTER; exit 0', async () => {
    await runCommand(Deploy, ['-i', INV, '--yes'], ctx());
    const r = await runCommand(Verify, ['-i', INV, '--format', 'prometheus'], ctx());
    expect(r.code).toBe(0);
    const fams = parsePromText(r.stdout);
    expect(fams.get('hactl_verify_ok')!.samples[0].value).toBe(1);
    expect(fams.get('hactl_vip_holders')!.samples).toEqual([
      { name: 'hactl_vip_holders', labels: { cluster: 'web', vip: 'vip1', address: '10.0.0.100/24' }, value: 1 },
    ]);
    const states = fams.get('hactl_vrrp_state')!.samples.map((s) => [s.labels.node, s.labels.vrid, s.value]);
    expect(states).toEqual([
      ['lb1', '51', 2],
      ['lb2', '51', 1],
    ]);
    for (const f of fams.values()) expect([f.name, f.type, typeof f.help]).toEqual([f.name, 'gauge', 'string']);
  });

  test('--format nagios: OK exit 0; a failure CRITICAL exit 2; an inventory error UNKNOWN exit 3', async () => {
    await runCommand(Deploy, ['-i', INV, '--yes'], ctx());
    const ok = await runCommand(Verify, ['-i', INV, '--format', 'nagios'], ctx());
    expect([ok.code, ok.stdout.split('\n')[0]]).toEqual([
      0,
      expect.stringMatching(/^HACTL OK - all \d+ checks passed/),
    ]);
    sb.host('lb1').write('/etc/nginx/conf.d/hactl-web.conf', '# hand edit\n');
    const crit = await runCommand(Verify, ['-i', INV, '--format', 'nagios'], ctx());
    expect(crit.code).toBe(2);
    expect(crit.stdout).toMatch(/^HACTL CRITICAL - \d+ of \d+ checks failed: /);
    const missing = await runCommand(Verify, ['-i', join(dir, 'none.yaml'), '--format', 'nagios'], ctx());
    expect([missing.code, missing.stdout]).toEqual([3, expect.stringMatching(/^HACTL UNKNOWN - /)]);
    const both = await runCommand(Verify, ['-i', INV, '--format', 'nagios', '--json'], ctx());
    expect(both.code).toBe(3);
  });
});
