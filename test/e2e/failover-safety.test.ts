/**
 * failover-test is safe to run against production (issue 14): every fault undoes itself when
 * hactl cannot (killed with SIGKILL right after the inject, or its SSH connection cut on the
 * host), within the maximum fault time plus a few seconds, leaving nothing of hactl's on the
 * host; verify and status explain what an interrupted test left; --undo undoes it now,
 * idempotently; a plain request through the VIP carries no hactl header while verify and
 * failover-test still name the node that answered. The CLI runs as an operator runs it.
 */
import { buildFault, FAULT_KINDS, restoredCheck, type FaultKind } from '../../src/failover/faults.js';
import type { failoverJson, undoJson } from '../../src/ui/failover-view.js';
import type { statusJson } from '../../src/ui/status-view.js';
import type { VerifyJson } from '../../src/ui/verify-view.js';
import { httpGet } from '../../src/util/http.js';
import { hactl, inventoryVariant, removeScratch, startHactl, type CliResult } from './helpers/deploy.js';
import { inHost, useLab, vipHolders, waitFor } from './helpers/index.js';

const lab = useLab();
let inventory: string;
let vip: string;

type Report = ReturnType<typeof failoverJson>;
const json = <T>(r: CliResult): T => {
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`not JSON (exit ${r.exitCode}):\n${r.stdout}\n${r.stderr}`);
  }
};

/** Everything of hactl's a fault can leave on lb1, read from inside the host (not through hactl). */
async function hactlState(): Promise<string> {
  const r = await inHost(
    lab.state,
    'lb1',
    [
      'ls /run/hactl/faults 2>/dev/null | sed "s/^/record /"',
      'iptables-save | grep hactl-failover-test | sed "s/^/rule /"',
      'ip6tables-save | grep hactl-failover-test | sed "s/^/rule /"',
      "pgrep -f 'hactl-fault-watchd[o]g' | sed 's/^/watchdog /'",
      'pidof keepalived >/dev/null || echo "keepalived down"',
      'pidof nginx >/dev/null || echo "nginx down"',
      'for p in $(pidof keepalived nginx); do [ "$(sed "s/.*) //" /proc/$p/stat | cut -c1)" = T ] && echo "frozen $p"; done',
      'true',
    ].join('\n'),
  );
  return r.stdout.trim();
}

async function healed(what: string, timeoutMs: number): Promise<number> {
  const t0 = Date.now();
  let last = '';
  await waitFor(
    async () => {
      last = `${await hactlState()} holders=${(await vipHolders(lab.state, vip)).join(',')}`;
      return last === ' holders=lb1' || last === 'holders=lb1';
    },
    {
      timeoutMs,
      intervalMs: 200,
      what: `${what}: nothing of hactl's left on lb1 and ${vip} on lb1 alone (last: ${last})`,
    },
  );
  return Date.now() - t0;
}

async function verifyPasses(inv = inventory): Promise<void> {
  let last = '';
  await waitFor(
    async () => {
      const v = await hactl(['verify', '-i', inv, '--quiet']);
      last = v.stdout;
      return v.exitCode === 0;
    },
    { timeoutMs: 30_000, intervalMs: 1000, what: `verify to pass (last: ${last})` },
  );
}

/** Starts failover-test with one fault; resolves once the fault is in (and its watchdog armed), with its maximum. */
async function injected(kind: FaultKind, extra: string[] = []) {
  const child = startHactl(['failover-test', '-i', inventory, '--fault', kind, '--yes', ...extra], 240_000);
  let err = '';
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const max = await waitFor(
    () => {
      if (child.exitCode !== null) throw new Error(`hactl ended (exit ${child.exitCode}) before injecting:\n${err}`);
      const m = /injected on lb1; its watchdog undoes it by itself after (\d+) s/.exec(err);
      return m ? Number(m[1]) : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 50, what: `${kind} injected` },
  );
  return { child, max, err: () => err };
}

const measured: string[] = [];

beforeAll(async () => {
  inventory = lab.state.files.inventory;
  vip = lab.state.clusters[0].vips[0].ip;
  const d = await hactl(['deploy', '-i', inventory, '--yes'], 180_000);
  if (d.exitCode !== 0) throw new Error(`deploy failed (exit ${d.exitCode}):\n${d.stdout}\n${d.stderr}`);
}, 240_000);

afterAll(() => {
  removeScratch();
  // The figures the closing report quotes, one line per fault run.
  if (measured.length) console.log(measured.join('\n'));
});

describe('no internals in public responses', () => {
  it('a plain request through the VIP carries no X-Hactl-* header (and not the probe token)', async () => {
    const r = await httpGet({
      ip: vip,
      port: 80,
      host: lab.state.serverName,
      path: lab.state.healthPath,
      timeoutMs: 3000,
    });
    expect(r.status).toBe(200);
    expect(Object.keys(r.headers).filter((h) => h.startsWith('x-hactl'))).toEqual([]);
    const wrong = await httpGet(
      { ip: vip, port: 80, host: lab.state.serverName, path: lab.state.healthPath, timeoutMs: 3000 },
      { 'X-Hactl-Probe': '0'.repeat(32) },
    );
    expect(Object.keys(wrong.headers).filter((h) => h.startsWith('x-hactl'))).toEqual([]);
  });

  it('verify with no secret in the environment still names the node and backend that answered; the token is never printed', async () => {
    const noSecret = inventoryVariant(lab.state, 'no-secret', (doc) => {
      for (const c of doc.clusters) c.vrrp.auth = { type: 'PASS', pass_env: 'HACTL_E2E_UNSET_PASS' };
    });
    const v = await hactl(['verify', '-i', noSecret, '--json']);
    const doc = json<VerifyJson>(v);
    expect(doc.ok).toBe(true);
    const sites = doc.checks.filter((c) => c.kind === 'site');
    expect(sites.map((c) => c.detail)).toEqual(
      sites.map(() => expect.stringMatching(/ via lb1 from 10\.213\.\d+\.20\d:80/)),
    );
    const token = (
      await inHost(lab.state, 'lb1', 'grep -o \'"[0-9a-f]\\{32\\}"\' /etc/nginx/conf.d/*.conf | head -n 1')
    ).stdout
      .trim()
      .replace(/"/g, '');
    expect(token).toMatch(/^[0-9a-f]{32}$/);
    expect(v.stdout + v.stderr).not.toContain(token);
    const dry = await hactl(['deploy', '-i', inventory, '--dry-run']);
    expect(dry.stdout + dry.stderr).not.toContain(token);
  });
});

describe('a fault outlives a dead hactl by at most its maximum fault time', () => {
  it.each(FAULT_KINDS.map((k) => [k]))(
    '%s: hactl killed with SIGKILL right after the inject',
    async (kind) => {
      const { child, max } = await injected(kind);
      child.kill('SIGKILL');
      await child;
      const ms = await healed(`${kind} after SIGKILL`, (max + 15) * 1000);
      measured.push(`MEASURE kill-9 ${kind}: max ${max} s, healed ${ms} ms after the kill`);
      await verifyPasses();
      expect(await hactlState()).toBe('');
    },
    180_000,
  );

  it.each(FAULT_KINDS.map((k) => [k]))(
    '%s: the SSH connection cut on the host right after the inject',
    async (kind) => {
      const { child, max } = await injected(kind, ['--max-fault-seconds', '15']);
      expect(max).toBe(15);
      // The operator's laptop vanishes: every packet of the machine's SSH to lb1 is dropped (no FIN, no RST).
      const cut = `-p tcp -s ${lab.state.bridgeIp} --dport 22 -j DROP`;
      const cutOut = `-p tcp -d ${lab.state.bridgeIp} --sport 22 -j DROP`;
      await inHost(lab.state, 'lb1', `iptables -w -I INPUT 1 ${cut} && iptables -w -I OUTPUT 1 ${cutOut}`);
      try {
        const ms = await healed(`${kind} with the SSH connection cut`, (max + 15) * 1000);
        measured.push(`MEASURE ssh-cut ${kind}: max ${max} s, healed ${ms} ms after the cut`);
      } finally {
        child.kill('SIGKILL');
        await child;
        await inHost(lab.state, 'lb1', `iptables -w -D INPUT ${cut}; iptables -w -D OUTPUT ${cutOut}`, {
          check: false,
        });
      }
      await verifyPasses();
      expect(await hactlState()).toBe('');
    },
    180_000,
  );
});

describe('leftovers: verify and status explain them, --undo removes them', () => {
  it('kill-keepalived cut between its stop and its kill: the restored check sees it, the undo kills and starts keepalived', async () => {
    const target = { serviceManager: 'sysvinit' as const, peers: [], family: 4 as const };
    const fault = buildFault('kill-keepalived', target);
    const restored = async () =>
      (
        await inHost(lab.state, 'lb1', `if ${restoredCheck('kill-keepalived', target)}; then echo restored; fi`)
      ).stdout.trim();
    expect(await restored()).toBe('restored');
    const before = (await inHost(lab.state, 'lb1', 'pidof keepalived')).stdout.trim();
    // The first half of the inject alone: every keepalived process stopped, none killed.
    await inHost(lab.state, 'lb1', 'pkill -STOP -x keepalived');
    expect(await restored()).toBe('');
    await inHost(lab.state, 'lb1', fault.undo);
    expect(await restored()).toBe('restored');
    const after = (await inHost(lab.state, 'lb1', 'pidof keepalived')).stdout.trim().split(' ');
    expect(after.filter((p) => before.split(' ').includes(p))).toEqual([]);
    await healed('kill-keepalived undone after a half run', 20_000);
    await verifyPasses();
  }, 120_000);

  it('an interrupted partition is named with who, when and the way out; --undo undoes it and then finds nothing', async () => {
    const { child } = await injected('partition', ['--max-fault-seconds', '120']);
    child.kill('SIGKILL');
    await child;
    const why =
      /partition \(drop VRRP .*\) left by an interrupted failover-test started at \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ by \S+ on \S+: undone automatically at \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ \(in \d+ s\), or now with `hactl failover-test --undo`/;
    const v = await hactl(['verify', '-i', inventory, '--json']);
    expect(v.exitCode).toBe(1);
    const leftover = json<VerifyJson>(v).checks.filter((c) => c.kind === 'leftover' && !c.ok);
    expect(leftover).toEqual([expect.objectContaining({ target: 'lb1', detail: expect.stringMatching(why) })]);
    const s = json<ReturnType<typeof statusJson>>(await hactl(['status', '-i', inventory, '--json']));
    expect(s.lbs.find((l) => l.name === 'lb1')?.leftovers).toEqual([expect.stringMatching(why)]);

    const u = await hactl(['failover-test', '-i', inventory, '--undo', '--json']);
    const undo = json<ReturnType<typeof undoJson>>(u);
    expect({ code: u.exitCode, ok: undo.ok }).toEqual({ code: 0, ok: true });
    const lb1 = undo.hosts.find((h) => h.host === 'lb1')!;
    expect(lb1.found).toEqual([expect.stringMatching(why)]);
    expect(lb1.undone).toHaveLength(1);
    expect(lb1.remaining).toEqual([]);
    await healed('after --undo', 20_000);

    const again = await hactl(['failover-test', '-i', inventory, '--undo']);
    expect(again.exitCode).toBe(0);
    expect(again.stdout).toMatch(/lab1\/lb1: nothing of hactl's left\n.*lab1\/lb2: nothing of hactl's left/);
    await verifyPasses();
  }, 180_000);
});

describe('the faults production has, and what each kind of client saw', () => {
  it('isolate and freeze move the VIP within 3 × advert_int + skew; both client kinds are reported; failover-test names who answered', async () => {
    const r = await hactl(
      ['failover-test', '-i', inventory, '--fault', 'isolate', '--probe', 'both', '--yes', '--json'],
      240_000,
    );
    const r2 = await hactl(
      ['failover-test', '-i', inventory, '--fault', 'freeze', '--probe', 'both', '--yes', '--json'],
      240_000,
    );
    for (const f of [...json<Report>(r).faults, ...json<Report>(r2).faults]) {
      const what = JSON.stringify({ ...f, probes: undefined });
      expect({ what, bound: f.boundMs, pass: f.pass, newMaster: f.newMaster, restored: f.restore.ok }).toEqual({
        what,
        bound: 3609,
        pass: true,
        newMaster: 'lb2',
        restored: true,
      });
      expect(f.clients.map((c) => c.client)).toEqual(['new', 'keepalive']);
      expect(f.watchdog).toEqual({ maxSeconds: 21, outcome: 'cancelled' });
      // Answers before the fault came from lb1, after the failover from lb2: the token works.
      expect(f.probes.some((p) => p.ok && p.lb === 'lb1' && p.t < 0)).toBe(true);
      expect(f.probes.some((p) => p.ok && p.lb === 'lb2' && p.t > 0 && p.t < f.times.undoMs!)).toBe(true);
      for (const c of f.clients)
        measured.push(
          `MEASURE ${f.fault} ${c.client}: ${c.failedRequests}/${c.totalRequests} failed during the fault, down ${c.downtimeMs} ms, errors ${JSON.stringify(c.errors)}, retried ${c.retried}; moved ${f.vipMovedMs} ms, bound ${f.boundMs} ms`,
        );
    }
    expect(r.exitCode).toBe(0);
    expect(r2.exitCode).toBe(0);
    expect(await hactlState()).toBe('');
    expect(await vipHolders(lab.state, vip)).toEqual(['lb1']);
  }, 300_000);
});
