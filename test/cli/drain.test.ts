/**
 * hactl drain / undrain in-process against sandbox hosts (the real scripts under sh): the
 * refusals and their exit codes (nothing changed on refusal), the --json document, the file
 * keepalived tracks, and a backend marked down in nginx, recorded, and kept down by deploy.
 */
import Deploy from '../../commands/deploy.js';
import Drain from '../../commands/drain.js';
import Status from '../../commands/status.js';
import Undrain from '../../commands/undrain.js';
import Verify from '../../commands/verify.js';
import type { CommandContext } from '../../src/cli/context.js';
import { scriptedPrompter } from '../../src/cli/prompter.js';
import { runCommand } from '../helpers/cli.js';
import { fixturePath, loadValid, TEST_ENV } from '../helpers/inventory.js';
import { Sandbox, type SandboxHost } from '../helpers/sandbox.js';

const INV = fixturePath('active-passive.yaml');
const DRAIN = '/var/lib/hactl/drain';
const SITE = '/etc/nginx/conf.d/hactl-web.conf';
const RECORD = '/var/lib/hactl/drained-backends';
let sb: Sandbox;
beforeEach(async () => {
  sb = Sandbox.forInventory(loadValid(INV));
  const r = await runCommand(Deploy, ['-i', INV, '--yes', '--json'], ctx());
  expect(r.code).toBe(0);
});
afterEach(() => sb.remove());

const ctx = (over: Partial<CommandContext> = {}): Partial<CommandContext> => ({
  connect: () => sb.connector(),
  http: sb.http(),
  env: { ...TEST_ENV },
  ...over,
});

/** The sandbox has no VRRP: a write to the drain file moves the VIP as keepalived would. */
function vrrpFollowsDrainFile(): void {
  const move = (from: SandboxHost, to: SandboxHost) => {
    const line = from.addresses().find((a) => a.includes('10.0.0.100/'));
    if (!line) return;
    from.write(
      '/.sandbox/addrs',
      `${from
        .addresses()
        .filter((a) => a !== line)
        .join('\n')}\n`,
    );
    to.write('/.sandbox/addrs', `${[...to.addresses(), line].join('\n')}\n`);
  };
  const [lb1, lb2] = [sb.host('lb1'), sb.host('lb2')];
  const before = lb1.beforeExec;
  lb1.beforeExec = (script) => {
    before?.(script);
    if (script.includes("printf '%s\\n' -253")) move(lb1, lb2);
    if (script.includes("printf '%s\\n' 0 >")) move(lb2, lb1);
  };
}

describe('drain a load balancer', () => {
  test('drain lb1 --json: the file says -253, the VIP is elsewhere; status and verify show it drained; undrain brings it back', async () => {
    vrrpFollowsDrainFile();
    const logged = sb.host('lb1').log().length;
    const r = await runCommand(Drain, ['-i', INV, 'lb1', '--json'], ctx());
    expect(r.code).toBe(0);
    expect(r.json).toMatchObject({
      ok: true,
      kind: 'node',
      action: 'drain',
      node: 'lb1',
      value: -253,
      changed: true,
      forced: false,
      vips: [{ vip: 'vip1', before: ['lb1'], after: ['lb2'] }],
    });
    expect(sb.host('lb1').read(DRAIN)).toBe('-253\n');
    // Written without a reload or restart of anything.
    expect(sb.host('lb1').log().slice(logged)).toEqual([]);

    const st = await runCommand(Status, ['-i', INV, '--json'], ctx());
    expect(st.code).toBe(0);
    expect(st.json).toMatchObject({
      ok: true,
      lbs: [
        { name: 'lb1', drained: true },
        { name: 'lb2', drained: false },
      ],
    });
    const human = await runCommand(Status, ['-i', INV], ctx());
    expect(human.stdout).toMatch(/lb1 is drained/);

    const v = await runCommand(Verify, ['-i', INV, '--json'], ctx());
    const vip = (v.json!.checks as { kind: string; ok: boolean; detail: string }[]).find((c) => c.kind === 'vip')!;
    expect(vip).toMatchObject({ ok: true });
    expect(vip.detail).toMatch(/lb1 is drained \(hactl undrain lb1 brings it back\)/);

    // deploy keeps the node drained: it does not touch the file, and its checks accept the VIP on lb2.
    const d = await runCommand(Deploy, ['-i', INV, '--yes', '--json'], ctx());
    expect(d.code).toBe(0);
    expect(sb.host('lb1').read(DRAIN)).toBe('-253\n');

    const again = await runCommand(Drain, ['-i', INV, 'lb1', '--json'], ctx());
    expect(again.json).toMatchObject({ ok: true, changed: false });

    const u = await runCommand(Undrain, ['-i', INV, 'lb1', '--json'], ctx());
    expect(u.code).toBe(0);
    expect(u.json).toMatchObject({ ok: true, action: 'undrain', value: 0, vips: [{ after: ['lb1'] }] });
    expect(sb.host('lb1').read(DRAIN)).toBe('0\n');
  });

  test('the last healthy node of a VIP: refused (exit 2), naming why, nothing written', async () => {
    await sb.host('lb2').shell('service keepalived stop');
    const r = await runCommand(Drain, ['-i', INV, 'lb1', '--json'], ctx());
    expect(r.code).toBe(2);
    expect(r.json).toMatchObject({ ok: false, error: { code: 'refused' } });
    const msg = (r.json!.error as { message: string }).message;
    expect(msg).toMatch(/lb1 is the last healthy node of vip1 \(10\.0\.0\.100\/24\): lb2 keepalived is not running/);
    expect(msg).toMatch(/--force/);
    expect(sb.host('lb1').read(DRAIN)).toBeUndefined();
  });

  test('--force without a terminal and without --yes: refused (exit 2), nothing written; with a terminal, answering no: exit 1', async () => {
    await sb.host('lb2').shell('service keepalived stop');
    const r = await runCommand(Drain, ['-i', INV, 'lb1', '--force'], ctx());
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--force needs a terminal to confirm on, or --yes/);
    expect(sb.host('lb1').read(DRAIN)).toBeUndefined();

    const no = await runCommand(
      Drain,
      ['-i', INV, 'lb1', '--force'],
      ctx({ isTTY: { stdin: true, stdout: true }, prompter: () => scriptedPrompter({ confirm: false }) }),
    );
    expect(no.code).toBe(1);
    expect(no.stdout).toMatch(/not confirmed; nothing was changed/);
    expect(sb.host('lb1').read(DRAIN)).toBeUndefined();
  });

  test('--force --yes drains anyway, saying so; the wait for a holder then fails (exit 1) and the node stays drained', async () => {
    await sb.host('lb2').shell('service keepalived stop');
    const r = await runCommand(Drain, ['-i', INV, 'lb1', '--force', '--yes', '--timeout', '1', '--json'], ctx());
    expect(r.code).toBe(1);
    expect(r.json).toMatchObject({ ok: false, forced: true, value: -253 });
    expect(r.json!.message).toMatch(
      /^lb1 is drained \(-253\), but timed out after 1000 ms waiting for vip1 to be held by a node other than lb1/,
    );
    expect(sb.host('lb1').read(DRAIN)).toBe('-253\n');
  });

  test('usage: an unknown node, or both a node and --backend, exit 2', async () => {
    const a = await runCommand(Drain, ['-i', INV, 'lb9', '--json'], ctx());
    expect(a.code).toBe(2);
    expect((a.json!.error as { message: string }).message).toMatch(
      /no load balancer named lb9; the inventory has lb1, lb2/,
    );
    const b = await runCommand(Drain, ['-i', INV, 'lb1', '--backend', 'web1'], ctx());
    expect(b.code).toBe(2);
  });

  test('a keepalived.conf without the tracker (deployed by an older hactl): refused naming the fix', async () => {
    const conf = sb.host('lb1').read('/etc/keepalived/keepalived.conf')!;
    sb.host('lb1').write('/etc/keepalived/keepalived.conf', conf.replace(/^track_file hactl_drain \{/m, 'x {'));
    const r = await runCommand(Drain, ['-i', INV, 'lb1'], ctx());
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/has no hactl drain tracker \(track_file hactl_drain\): run hactl deploy first/);
    expect(sb.host('lb1').read(DRAIN)).toBeUndefined();
  });
});

describe('drain a backend', () => {
  test('drain --backend web1: down in nginx on both LBs (reload only), recorded, safe to stop; deploy keeps it; undrain restores', async () => {
    const before = sb.host('lb1').read(SITE)!;
    const r = await runCommand(Drain, ['-i', INV, '--backend', 'web1', '--json'], ctx());
    expect(r.code).toBe(0);
    expect(r.json).toMatchObject({
      ok: true,
      kind: 'backend',
      backend: 'web1',
      target: '10.0.1.21:8080',
      safeToStop: true,
      hosts: [
        { host: 'lb2', changed: true, connections: 0 },
        { host: 'lb1', changed: true, connections: 0 },
      ].sort((a, b) => a.host.localeCompare(b.host)),
    });
    expect((r.json!.message as string).includes('safe to stop')).toBe(true);
    for (const h of ['lb1', 'lb2']) {
      expect(sb.host(h).read(SITE)).toMatch(/server 10\.0\.1\.21:8080 weight=2 max_fails=3 fail_timeout=10s down;/);
      expect(sb.host(h).read(RECORD)).toBe('web1 10.0.1.21:8080\n');
      expect(
        sb
          .host(h)
          .log()
          .some((l) => /nginx reload/.test(l)),
      ).toBe(true);
    }
    // Rolling: the backup first.
    expect(sb.applied().slice(-2)).toEqual(['lb2', 'lb1']);

    const d = await runCommand(Deploy, ['-i', INV, '--yes', '--json'], ctx());
    expect(d.json).toMatchObject({ ok: true, message: 'nothing to change on 2 host(s)' });
    const v = await runCommand(Verify, ['-i', INV, '--json'], ctx());
    expect((v.json!.checks as { kind: string; ok: boolean }[]).filter((c) => !c.ok)).toEqual([]);

    const u = await runCommand(Undrain, ['-i', INV, '--backend', 'web1', '--json'], ctx());
    expect(u.code).toBe(0);
    expect(sb.host('lb1').read(SITE)).toBe(before);
    expect(sb.host('lb1').read(RECORD)).toBe('');
  });

  test('Ctrl-C during the rollout: the host in flight finishes its transaction, the next is not touched, exit 130', async () => {
    let interrupt: ((sig: string) => void) | undefined;
    sb.host('lb2').beforeExec = (script) => {
      if (script.includes('apply.sh')) interrupt?.('SIGINT');
    };
    const before = sb.host('lb1').read(SITE);
    const r = await runCommand(
      Drain,
      ['-i', INV, '--backend', 'web1', '--json'],
      ctx({
        onInterrupt: (h) => {
          interrupt = h;
          return () => undefined;
        },
      }),
    );
    expect(r.code).toBe(130);
    expect(r.json).toMatchObject({ ok: false, error: { code: 'interrupted' } });
    expect((r.json!.error as { message: string }).message).toMatch(/interrupted before lb1/);
    expect(sb.host('lb2').read(SITE)).toMatch(/10\.0\.1\.21:8080 .*down;/);
    expect(sb.host('lb2').read(RECORD)).toBe('web1 10.0.1.21:8080\n');
    expect(sb.host('lb1').read(SITE)).toBe(before);
    expect(sb.host('lb1').read(RECORD)).toBeUndefined();
  });

  test('open connections past --timeout: exit 1, not safe to stop, the backend stays down', async () => {
    sb.host('lb1').write('/.sandbox/conns', '10.0.1.21:8080\n10.0.1.21:8080\n');
    const r = await runCommand(Drain, ['-i', INV, '--backend', 'web1', '--timeout', '1', '--json'], ctx());
    expect(r.code).toBe(1);
    expect(r.json).toMatchObject({ ok: false, safeToStop: false });
    expect(r.json!.message).toMatch(/after 1 s it is still in use \(lb1: 2 connection\(s\)\): not safe to stop it yet/);
    expect(sb.host('lb1').read(RECORD)).toBe('web1 10.0.1.21:8080\n');
  });

  test('the last backend of a site in service: refused (exit 2), nothing changed', async () => {
    await runCommand(Drain, ['-i', INV, '--backend', 'web2'], ctx());
    await runCommand(Drain, ['-i', INV, '--backend', 'web3'], ctx());
    const site = sb.host('lb1').read(SITE);
    const r = await runCommand(Drain, ['-i', INV, '--backend', 'web1', '--json'], ctx());
    expect(r.code).toBe(2);
    expect((r.json!.error as { message: string }).message).toMatch(/web1 is the last backend of site www in service/);
    expect(sb.host('lb1').read(SITE)).toBe(site);
  });
});
