/**
 * The commands as operators run them, in-process, against sandbox hosts that run hactl's
 * real scripts: deploy, verify, status, failover-test, validate and render, with their human
 * output, their --json documents (exactly one, also on failure) and their exit codes.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Deploy from '../../commands/deploy.js';
import FailoverTest from '../../commands/failover-test.js';
import Init from '../../commands/init.js';
import LabBuildImages from '../../commands/lab/build-images.js';
import LabCleanCache from '../../commands/lab/clean-cache.js';
import LabDown from '../../commands/lab/down.js';
import LabStatus from '../../commands/lab/status.js';
import LabUp from '../../commands/lab/up.js';
import Releases from '../../commands/releases.js';
import Render from '../../commands/render.js';
import Rollback from '../../commands/rollback.js';
import Schema from '../../commands/schema.js';
import Status from '../../commands/status.js';
import Validate from '../../commands/validate.js';
import Verify from '../../commands/verify.js';
import { scriptedPrompter } from '../../src/cli/prompter.js';
import type { CommandContext } from '../../src/cli/context.js';
import { runCommand } from '../helpers/cli.js';
import { fixturePath, loadValid, TEST_ENV } from '../helpers/inventory.js';
import { Sandbox } from '../helpers/sandbox.js';
import { buildFault, restoredCheck } from '../../src/failover/faults.js';
import { armAndInject } from '../../src/failover/watchdog.js';
import { render } from '../../src/remote/script.js';
import { sh } from '../../src/shell/quote.js';

const INV = fixturePath('active-passive.yaml');
let sb: Sandbox;
let dir: string;
beforeEach(() => {
  sb = Sandbox.forInventory(loadValid(INV));
  dir = mkdtempSync(join(tmpdir(), 'hactl-cli-'));
});
afterEach(() => {
  sb.remove();
  rmSync(dir, { recursive: true, force: true });
});

const ctx = (over: Partial<CommandContext> = {}): Partial<CommandContext> => ({
  connect: () => sb.connector(),
  http: sb.http(),
  env: { ...TEST_ENV },
  ...over,
});
const tty = { isTTY: { stdin: true, stdout: true } };

describe('deploy', () => {
  test('--yes --json: one document, exit 0; the second run changes nothing', async () => {
    const r = await runCommand(Deploy, ['-i', INV, '--yes', '--json'], ctx());
    expect(r.code).toBe(0);
    expect(r.json).toMatchObject({ ok: true, phase: 'done', dryRun: false });
    expect((r.json!.hosts as { status: string }[]).map((h) => h.status)).toEqual(['changed', 'changed']);
    expect(r.stderr).toMatch(/\[web\/lb2\] applying/);
    const again = await runCommand(Deploy, ['-i', INV, '--yes', '--json'], ctx());
    expect(again.json).toMatchObject({ ok: true, message: 'nothing to change on 2 host(s)' });
  });

  test('changes but no terminal and no --yes: refused (exit 2), nothing changed, one JSON error document', async () => {
    const r = await runCommand(Deploy, ['-i', INV, '--json'], ctx());
    expect(r.code).toBe(2);
    expect(r.json).toMatchObject({ ok: false, error: { code: 'refused', message: expect.stringMatching(/--yes/) } });
    expect(sb.applied()).toEqual([]);
  });

  test('on a terminal the plan is shown and the answer asked: no → exit 1, nothing changed; yes → deployed', async () => {
    const no = await runCommand(
      Deploy,
      ['-i', INV],
      ctx({ ...tty, prompter: () => scriptedPrompter({ confirm: false }) }),
    );
    expect(no.code).toBe(1);
    expect(no.stderr).toMatch(/web\/lb1: create \/etc\/keepalived\/keepalived.conf/);
    expect(no.stdout).toMatch(/not confirmed; nothing was changed/);
    expect(sb.applied()).toEqual([]);
    const yes = await runCommand(
      Deploy,
      ['-i', INV],
      ctx({ ...tty, prompter: () => scriptedPrompter({ confirm: true }) }),
    );
    expect(yes.code).toBe(0);
    expect(sb.applied()).toEqual(['lb2', 'lb1']);
  });

  test('--dry-run shows diffs with the password masked and changes nothing', async () => {
    const r = await runCommand(Deploy, ['-i', INV, '--dry-run'], ctx());
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/\+\s+auth_pass \[REDACTED\]/);
    expect(r.stdout + r.stderr).not.toContain('s3cret');
    expect(sb.applied()).toEqual([]);
  });

  test('a validation failure exits 1 with the validator output; the JSON says where', async () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(
      bad,
      readFileSync(INV, 'utf8').replace('health_path: /healthz', 'health_path: /healthz, extra: ["hactl_invalid on"]'),
    );
    const r = await runCommand(Deploy, ['-i', bad, '--yes', '--json'], ctx());
    expect(r.code).toBe(1);
    expect(r.json).toMatchObject({ ok: false, phase: 'apply', error: { code: 'failed' } });
    expect(JSON.stringify(r.json)).toMatch(/unknown directive \\"hactl_invalid\\"/i);
  });

  test('Ctrl-C during the rollout: exit 130, the host in flight finished, the rest skipped', async () => {
    let interrupt: (s: string) => void = () => undefined;
    sb.host('lb2').beforeExec = (s) => {
      if (s.includes('apply.sh')) interrupt('SIGINT');
    };
    const r = await runCommand(
      Deploy,
      ['-i', INV, '--yes', '--json'],
      ctx({ onInterrupt: (h) => ((interrupt = h), () => undefined) }),
    );
    expect(r.code).toBe(130);
    expect(r.json).toMatchObject({ ok: false, aborted: true, error: { code: 'interrupted' } });
    expect(r.stderr).toMatch(/SIGINT: stopping after the step in flight/);
    expect(sb.applied()).toEqual(['lb2']);
  });
});

describe('verify and status', () => {
  const deployed = () => runCommand(Deploy, ['-i', INV, '--yes', '--json'], ctx());

  test('healthy: verify exits 0 and its JSON lists every check; status shows the master holding the VIP', async () => {
    await deployed();
    const v = await runCommand(Verify, ['-i', INV, '--json'], ctx());
    expect(v.code).toBe(0);
    expect(v.json).toMatchObject({ ok: true, vips: [{ name: 'vip1', holders: ['lb1'], health: 'ok' }] });
    const kinds = new Set((v.json!.checks as { kind: string }[]).map((c) => c.kind));
    expect([...kinds].sort()).toEqual([
      'backend',
      'drift',
      'keepalived',
      'leftover',
      'nginx',
      'nginx -t',
      'site',
      'sysctl',
      'versions',
      'vip',
    ]);
    const s = await runCommand(Status, ['-i', INV], ctx());
    expect(s.code).toBe(0);
    expect(s.stdout).toMatch(/vip1 +10\.0\.0\.100\/24 +lb1 +lb1 +ok/);
  });

  test('nginx stopped on the master: verify exits 1 and --quiet prints only the problems', async () => {
    await deployed();
    await sb.host('lb1').shell('service nginx stop');
    const q = await runCommand(Verify, ['-i', INV, '--quiet'], ctx());
    expect(q.code).toBe(1);
    expect(
      q.stdout
        .trim()
        .split('\n')
        .every((l) => l.startsWith('hactl verify: web: ')),
    ).toBe(true);
    expect(q.stdout).toMatch(/nginx lb1: nginx is not running/);
  });

  test('verify and status need no secret: the unset password variable is no error, keepalived.conf is compared masked', async () => {
    await deployed();
    const noSecret = ctx({ env: {} });
    const cronInv = join(dir, 'env.yaml');
    writeFileSync(cronInv, readFileSync(INV, 'utf8').replace('pass: s3cret', 'pass_env: UNSET_HACTL_PASS'));
    // The host has the secret of the file; the inventory now says "from the environment", which is unset.
    const v = await runCommand(Verify, ['-i', cronInv, '--quiet'], noSecret);
    expect(v.stdout).toBe('');
    expect(v.code).toBe(0);
    expect((await runCommand(Status, ['-i', cronInv, '--json'], noSecret)).code).toBe(0);
  });

  test('a VIP held by both nodes: status exits 1 and names the split', async () => {
    await deployed();
    sb.host('lb2').write('/.sandbox/addrs', 'eth0 inet 10.0.0.12/24\neth0 inet 10.0.0.100/24\n');
    const s = await runCommand(Status, ['-i', INV, '--json'], ctx());
    expect(s.code).toBe(1);
    expect(s.json).toMatchObject({ ok: false, vips: [{ health: 'split-brain', holders: ['lb1', 'lb2'] }] });
  });

  test('no load balancer reachable: the VIP is unknown, not down', async () => {
    sb.host('lb1').failWith('connect');
    sb.host('lb2').failWith('connect');
    const v = await runCommand(Verify, ['-i', INV, '--json'], ctx());
    expect(v.code).toBe(1);
    expect(v.json).toMatchObject({ vips: [{ health: 'unknown' }] });
  });

  test('status --interval out of range is a usage error (2) with one JSON document', async () => {
    const s = await runCommand(Status, ['-i', INV, '--watch', '--interval', '0', '--json'], ctx());
    expect(s.code).toBe(2);
    expect(s.json).toMatchObject({ ok: false, error: { code: 'usage', message: expect.stringMatching(/--interval/) } });
  });
});

describe('failover-test refusals', () => {
  test('no terminal and no --yes: refused before anything is touched', async () => {
    const r = await runCommand(FailoverTest, ['-i', INV, '--json'], ctx());
    expect(r.code).toBe(2);
    expect(r.json).toMatchObject({ ok: false, error: { code: 'refused' } });
    expect(sb.journal).toEqual([]);
  });

  test('an unknown VIP is a usage error, typed, not matched by its text', async () => {
    const r = await runCommand(FailoverTest, ['-i', INV, '--vip', 'nope', '--yes', '--json'], ctx());
    expect(r.code).toBe(2);
    expect(r.json).toMatchObject({ error: { code: 'usage', message: expect.stringMatching(/no VIP named nope/) } });
  });

  test('on a terminal, answering no: exit 1 (as a declined deploy), nothing broken', async () => {
    expect((await runCommand(Deploy, ['-i', INV, '--yes'], ctx())).code).toBe(0);
    const before = sb.journal.length;
    const r = await runCommand(
      FailoverTest,
      ['-i', INV],
      ctx({ ...tty, prompter: () => scriptedPrompter({ confirm: false }) }),
    );
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/cancelled/);
    const after = sb.journal.slice(before);
    expect(after.some((e) => /service (nginx|keepalived) stop|pkill|iptables -w -I|setsid/.test(e.script))).toBe(false);
  });

  test('an unhealthy cluster (never deployed) is refused after verify: exit 1, nothing broken', async () => {
    const r = await runCommand(FailoverTest, ['-i', INV, '--yes', '--json'], ctx());
    expect(r.code).toBe(1);
    expect(r.json).toMatchObject({ ok: false, phase: 'verify-before', faults: [] });
    expect(sb.journal.some((e) => /service (nginx|keepalived) stop|pkill|iptables -w -I|setsid/.test(e.script))).toBe(
      false,
    );
  });
});

describe('what an interrupted failover-test left, and --undo', () => {
  const deployed = () => runCommand(Deploy, ['-i', INV, '--yes', '--json'], ctx());
  /** A stop-nginx fault left on lb1 as a killed hactl leaves it: injected, its watchdog armed (60 s). */
  async function leftOnLb1() {
    const t = { serviceManager: 'sysvinit' as const, peers: ['10.0.0.12'], family: 4 as const };
    const fault = buildFault('stop-nginx', t);
    const spec = {
      id: `1-stop-nginx-cli${Date.now()}`,
      fault,
      restored: restoredCheck('stop-nginx', t),
      maxSeconds: 60,
      by: 'alice@laptop',
    };
    const lb1 = sb.host('lb1');
    // Through a shell that exits right after: the "connection" that armed it is gone, as a killed hactl's is.
    expect((await lb1.shell(sh(['sh', '-c', render(armAndInject(spec), lb1.rootPrefix)]))).code).toBe(0);
  }

  test('verify and status say what was left, by whom, when it undoes itself and how to undo it now', async () => {
    await deployed();
    await leftOnLb1();
    const v = await runCommand(Verify, ['-i', INV, '--quiet'], ctx());
    expect(v.code).toBe(1);
    expect(v.stdout).toMatch(
      /hactl verify: web: leftover lb1: stop-nginx \(stop nginx on the master \(service nginx stop\)\) left by an interrupted failover-test started at .* by alice on laptop: undone automatically at .* \(in \d+ s\), or now with `hactl failover-test --undo`/,
    );
    const s = await runCommand(Status, ['-i', INV], ctx());
    expect(s.stdout).toMatch(/lb1: stop-nginx .* left by an interrupted failover-test/);
    await runCommand(FailoverTest, ['-i', INV, '--undo'], ctx());
  });

  test('--undo (no --yes needed: it only restores) undoes it, says what it found, and is idempotent', async () => {
    await deployed();
    await leftOnLb1();
    const u = await runCommand(FailoverTest, ['-i', INV, '--undo', '--json'], ctx());
    expect(u.code).toBe(0);
    expect(u.json).toMatchObject({
      ok: true,
      hosts: [
        {
          host: 'lb1',
          found: [expect.stringMatching(/^stop-nginx /)],
          undone: [expect.stringMatching(/stop-nginx-cli/)],
          remaining: [],
        },
        { host: 'lb2', found: [], undone: [], remaining: [] },
      ],
    });
    expect(sb.host('lb1').running('nginx')).toBe(true);
    const again = await runCommand(FailoverTest, ['-i', INV, '--undo'], ctx());
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/web\/lb1: nothing of hactl's left\nweb\/lb2: nothing of hactl's left\n/);
    expect((await runCommand(Verify, ['-i', INV, '--quiet'], ctx())).stdout).toBe('');
  });

  test('--undo with a host unreachable: exit 1, the others still undone', async () => {
    await deployed();
    await leftOnLb1();
    sb.host('lb2').failWith('connect');
    const u = await runCommand(FailoverTest, ['-i', INV, '--undo', '--json'], ctx());
    expect(u.code).toBe(1);
    expect(u.json).toMatchObject({
      ok: false,
      hosts: [
        { host: 'lb1', undone: [expect.any(String)] },
        { host: 'lb2', error: expect.any(String) },
      ],
    });
  });
});

describe('validate and render', () => {
  test('validate: valid exits 0; an invalid inventory exits 2 with its located problems in one document', async () => {
    expect((await runCommand(Validate, ['-i', INV], ctx())).code).toBe(0);
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, readFileSync(INV, 'utf8').replace('vrid: 51', 'vrid: 999'));
    const r = await runCommand(Validate, ['-i', bad, '--json'], ctx());
    expect(r.code).toBe(2);
    expect(r.json).toMatchObject({ ok: false, error: { code: 'inventory' } });
    expect((r.json!.problems as { line: number; path: string }[])[0]).toMatchObject({
      line: 8,
      path: 'clusters[0].vips[0].vrid',
    });
  });

  test('render writes every file; onto a regular file it is a usage error', async () => {
    const out = join(dir, 'out');
    const r = await runCommand(Render, ['-i', INV, '--out', out, '--json'], ctx());
    expect(r.code).toBe(0);
    expect(existsSync(join(out, 'lb1/etc/keepalived/keepalived.conf'))).toBe(true);
    const file = join(dir, 'afile');
    writeFileSync(file, '');
    const f = await runCommand(Render, ['-i', INV, '--out', file, '--json'], ctx());
    expect(f.code).toBe(2);
    expect(f.json).toMatchObject({
      error: { code: 'usage', message: expect.stringMatching(/is a file, not a directory/) },
    });
  });
});

describe('the --json contract', () => {
  const missing = join(tmpdir(), 'hactl-no-such-inventory.yaml');
  const LAB_DIR = join(tmpdir(), `hactl-cli-lab-${process.pid}`);
  const cases: [string, Parameters<typeof runCommand>[0], string[], number, string][] = (
    [
      ['deploy', Deploy, ['-i', missing, '--yes'], 2, 'inventory'],
      ['verify', Verify, ['-i', missing], 2, 'inventory'],
      ['status', Status, ['-i', missing], 2, 'inventory'],
      ['failover-test', FailoverTest, ['-i', missing, '--yes'], 2, 'inventory'],
      ['validate', Validate, ['-i', missing], 2, 'inventory'],
      ['render', Render, ['-i', missing, '--out', join(tmpdir(), 'hactl-x')], 2, 'inventory'],
      ['deploy', Deploy, ['-i', INV, '--no-such-flag'], 2, 'usage'],
      ['verify', Verify, ['-i', INV, '--no-such-flag'], 2, 'usage'],
      ['status', Status, ['--bogus'], 2, 'usage'],
      ['failover-test', FailoverTest, ['-i', INV, '--fault', 'reboot'], 2, 'usage'],
      ['validate', Validate, ['extra-arg'], 2, 'usage'],
      ['render', Render, ['-i', INV], 2, 'usage'],
      ['releases', Releases, ['-i', missing], 2, 'inventory'],
      ['rollback', Rollback, ['-i', missing, '--yes'], 2, 'inventory'],
      ['releases', Releases, ['-i', INV, '--no-such-flag'], 2, 'usage'],
      ['rollback', Rollback, ['-i', INV, '--to'], 2, 'usage'],
      ['verify', Verify, ['-i', INV, '--format', 'prometheus'], 2, 'usage'],
      ['lab up', LabUp, ['--clusters', '0'], 2, 'usage'],
      ['lab up', LabUp, ['--dir', LAB_DIR], 2, 'refused'],
      ['lab down', LabDown, ['--dir', join(tmpdir(), 'hactl-no-such-lab')], 1, 'failed'],
      ['lab down', LabDown, ['--all', '--dir', 'x'], 2, 'usage'],
      ['lab status', LabStatus, ['extra-arg'], 2, 'usage'],
      ['lab build-images', LabBuildImages, ['--os', 'debian-99'], 2, 'usage'],
      ['lab clean-cache', LabCleanCache, ['--force'], 2, 'usage'],
    ] as [string, Parameters<typeof runCommand>[0], string[], number, string][]
  ).map(([n, c, a, code, kind]) => [`${n} ${a.join(' ')} --json`, c, a, code, kind]);
  beforeAll(() => {
    mkdirSync(LAB_DIR, { recursive: true });
    writeFileSync(join(LAB_DIR, 'lab.json'), '{}');
  });
  afterAll(() => rmSync(LAB_DIR, { recursive: true, force: true }));
  test.each(cases)('%s: one small JSON document with its exit code', async (_n, cmd, argv, code, kind) => {
    const r = await runCommand(cmd, [...argv, '--json'], ctx());
    expect(r.code).toBe(code);
    expect(r.json).toMatchObject({ ok: false, error: { code: kind } });
    expect(r.stdout.length).toBeLessThan(4000);
    expect(r.stderr).not.toMatch(/^\s+at /m);
  });

  test('lab status: one document on success too', async () => {
    const r = await runCommand(LabStatus, ['--json'], ctx());
    expect(r.code).toBe(0);
    expect(r.json).toMatchObject({ ok: true, labs: expect.any(Array) });
  });

  // init and schema have no --json: their usage errors exit 2 like every other command's.
  test.each([
    ['init', Init, ['--mode', 'triple']],
    ['schema', Schema, ['--no-such-flag']],
  ] as [string, Parameters<typeof runCommand>[0], string[]][])('%s: a usage error exits 2', async (_n, cmd, argv) => {
    const r = await runCommand(cmd, argv, ctx());
    expect(r.code).toBe(2);
    expect(r.stderr).not.toMatch(/^\s+at /m);
  });
});
