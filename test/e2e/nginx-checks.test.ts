/**
 * The default nginx check's two halves on real keepalived (issue 15): the HTTP check (fall 2)
 * for a hung nginx and the alive check (a connect every 0.1 s) for a dead one. A hung nginx
 * (SIGSTOP of every nginx process: the kernel still completes the alive check's connects) moves
 * the VIP by the HTTP check, after its fall, with keepalived's own dump saying which script
 * failed; a dead one (failover.test.ts: stop-nginx within its 0.86 s bound) by the alive check.
 */
import { deployCli, hactl, inventoryVariant, jsonOf, removeScratch } from './helpers/deploy.js';
import { inHost, useLab, vipHolders, waitFor, waitForVip } from './helpers/index.js';
import { HOST_PATHS } from '../../src/remote/paths.js';

const lab = useLab();
let vip: string;

beforeAll(async () => {
  vip = lab.state.clusters[0].vips[0].ip;
  const d = await deployCli(lab.state.files.inventory, '--yes');
  if (d.exitCode !== 0) throw new Error(`deploy failed (exit ${d.exitCode}):\n${d.stdout}\n${d.stderr}`);
}, 180_000);

afterAll(() => removeScratch());

/** keepalived's own view of its scripts on a host (its DATA dump): script name → GOOD / BAD / ... */
async function scriptStatus(name: string): Promise<Record<string, string>> {
  const r = await inHost(
    lab.state,
    name,
    'rm -f /tmp/keepalived.data; kill -s "$(keepalived --signum=DATA)" "$(cat /run/keepalived.pid)"; sleep 0.5; cat /tmp/keepalived.data',
  );
  const out: Record<string, string> = {};
  let current: string | undefined;
  for (const line of r.stdout.split('\n')) {
    const s = /^ VRRP Script = (\S+)/.exec(line);
    if (s) current = s[1];
    else if (/^------</.test(line)) current = undefined;
    const st = /^ {3}Status = (\S+)/.exec(line);
    if (current && st && out[current] === undefined) out[current] = st[1];
  }
  return out;
}

test('both scripts run and are GOOD on every node of the deployed lab', async () => {
  for (const lb of ['lb1', 'lb2'])
    expect(await scriptStatus(lb)).toEqual({ hactl_check_nginx: 'GOOD', hactl_nginx_alive: 'GOOD' });
}, 30_000);

test('the alive check answered its first run after one connect and loops under that keepalived since', async () => {
  for (const lb of ['lb1', 'lb2']) {
    // The file names keepalived's VRRP process, the alive script's parent; a later run finds
    // itself named and probes the whole second, so it is running nearly all the time.
    const r = await inHost(
      lab.state,
      lb,
      `cat ${HOST_PATHS.aliveFirstRun}; cat /run/vrrp.pid; n=0; for i in 1 2 3 4 5 6 7 8 9 10; do pgrep -f hactl-nginx-alive.sh >/dev/null && n=$((n+1)); sleep 0.1; done; echo $n`,
    );
    const [named, vrrp, running] = r.stdout.trim().split('\n');
    expect(named).toBe(vrrp);
    expect(Number(running)).toBeGreaterThanOrEqual(7);
  }
}, 30_000);

test('a hung nginx: the alive check passes it, the HTTP check fails it after fall 2, the VIP moves; it comes back after', async () => {
  expect(await vipHolders(lab.state, vip)).toEqual(['lb1']);
  await inHost(lab.state, 'lb1', 'pkill -STOP -x nginx');
  try {
    const moved = await waitForVip(lab.state, vip, ['lb2'], 15_000);
    // Never the alive check's 0.25 s: the HTTP check needs two failed runs of a second or more
    // (a hung probe fails by its 1 s timeout). At most 3 s of runs, then the 0.61 s skew.
    expect(moved).toBeGreaterThanOrEqual(900);
    expect(moved).toBeLessThan(3_610 + 2_000);
    expect(await scriptStatus('lb1')).toEqual({ hactl_check_nginx: 'BAD', hactl_nginx_alive: 'GOOD' });
    // hactl status says the same, from the same dump, and names the node in its text.
    const st = await hactl(['status', '-i', lab.state.files.inventory, '--json']);
    const lbs = JSON.parse(st.stdout).lbs as { name: string; scripts: { name: string; status: string }[] }[];
    expect(Object.fromEntries(lbs.map((l) => [l.name, l.scripts]))).toEqual({
      lb1: [
        { name: 'hactl_check_nginx', status: 'BAD' },
        { name: 'hactl_nginx_alive', status: 'GOOD' },
      ],
      lb2: [
        { name: 'hactl_check_nginx', status: 'GOOD' },
        { name: 'hactl_nginx_alive', status: 'GOOD' },
      ],
    });
    const text = await hactl(['status', '-i', lab.state.files.inventory]);
    expect(text.stdout).toContain('lb1: keepalived says hactl_check_nginx is BAD');
  } finally {
    await inHost(lab.state, 'lb1', 'pkill -CONT -x nginx');
  }
  // rise 2, then preemption back to lb1.
  await waitForVip(lab.state, vip, ['lb1'], 20_000);
  await waitFor(
    async () => {
      const s = await scriptStatus('lb1');
      if (s.hactl_check_nginx !== 'GOOD') throw new Error(JSON.stringify(s));
      return true;
    },
    { timeoutMs: 10_000, intervalMs: 500, what: 'the HTTP check to be GOOD again on lb1' },
  );
}, 60_000);

test('alive_interval 0: the alive script leaves the hosts with its configuration, in one transaction, the VIP staying put', async () => {
  const off = inventoryVariant(lab.state, 'no-alive', (doc) => {
    doc.clusters[0].health_check = { ...(doc.clusters[0].health_check ?? {}), alive_interval: 0 };
  });
  const d = await deployCli(off, '--yes', '--json');
  const j = jsonOf(d);
  expect({ ok: j.ok, message: j.message }).toMatchObject({ ok: true });
  for (const h of j.hosts)
    expect({ host: h.host, files: h.filesChanged, reloaded: h.servicesReloaded }).toEqual({
      host: h.host,
      files: expect.arrayContaining([HOST_PATHS.aliveScript, HOST_PATHS.keepalivedConf]),
      reloaded: ['keepalived'],
    });
  for (const lb of ['lb1', 'lb2']) {
    const r = await inHost(
      lab.state,
      lb,
      `test -e ${HOST_PATHS.aliveScript} && echo present || echo gone; grep -c hactl_nginx_alive ${HOST_PATHS.keepalivedConf} || true`,
    );
    expect({ lb, out: r.stdout.trim().split('\n') }).toEqual({ lb, out: ['gone', '0'] });
    expect(await scriptStatus(lb)).toEqual({ hactl_check_nginx: 'GOOD' });
  }
  expect(await vipHolders(lab.state, vip)).toEqual(['lb1']);
  // Nothing left to do: the removal is not repeated.
  const again = jsonOf(await deployCli(off, '--yes', '--json'));
  expect(again.hosts.map((h) => h.filesChanged)).toEqual([[], []]);
}, 120_000);
