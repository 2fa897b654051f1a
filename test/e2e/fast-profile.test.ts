/**
 * vrrp.profile: fast on real keepalived of every supported release (`lab up --fast --os mixed`,
 * three load balancers: Debian 11, 13, 12, keepalived 2.1.5, 2.3.3, 2.2.7): the rendered VRRPv3
 * sub-second configuration validates and runs on each, the sub-second nginx check keeps the
 * master healthy (no state change while nothing is wrong), and a stopped nginx moves the VIP
 * within the profile's bound, well under what the one-second defaults can promise.
 */
import { inHost, useLab, waitForVip } from './helpers/index.js';
import { deployCli, hactl, jsonOf, removeScratch } from './helpers/deploy.js';
import { joinSections, parseSections } from '../../src/remote/section.js';
import { keepalivedStatsSection } from '../../src/remote/sections/keepalived.js';
import { HOST_PATHS } from '../../src/remote/paths.js';

const lab = useLab({ fast: true, os: 'mixed', lbs: 3 });
afterAll(removeScratch);

/** keepalived's own count of state changes (Became master + Released master), per LB. */
async function transitions(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const lb of lab.lbs()) {
    const r = await inHost(lab.state, lb.name, joinSections([keepalivedStatsSection]).text);
    const [stats] = parseSections([keepalivedStatsSection] as const, r.stdout);
    out[lb.name] = [...stats.values()].reduce((a, s) => a + s.becameMaster + s.releasedMaster, 0);
  }
  return out;
}

test('the fast profile validates and runs on keepalived 2.1.5, 2.2.7 and 2.3.3, and stays put while healthy', async () => {
  const d = await deployCli(lab.state.files.inventory, '--yes', '--json');
  const j = jsonOf(d);
  expect({ ok: j.ok, message: j.message, stderr: j.ok ? '' : d.stderr }).toMatchObject({ ok: true });
  const vip = lab.state.clusters[0].vips[0];
  await waitForVip(lab.state, vip.ip, [vip.master], 10_000);
  const versions = new Set<string>();
  for (const lb of lab.lbs()) {
    versions.add((await inHost(lab.state, lb.name, "dpkg-query -W -f='${Version}' keepalived")).stdout);
    await inHost(lab.state, lb.name, 'keepalived -t -f /etc/keepalived/keepalived.conf');
    const conf = (await inHost(lab.state, lb.name, 'cat /etc/keepalived/keepalived.conf')).stdout;
    expect(conf).toMatch(/^\s*version 3$/m);
    expect(conf).toMatch(/^\s*advert_int 0\.1$/m);
    expect(conf).not.toMatch(/authentication/);
    // keepalived runs the script every whole second; the script probes every 0.1 s within it.
    expect(conf).toMatch(/^\s*interval 1$/m);
    // Its first run under this keepalived answered after one probe (the election waits for
    // it) and named keepalived's VRRP process, its parent; the runs since probe the whole second.
    const r = await inHost(
      lab.state,
      lb.name,
      `cat ${HOST_PATHS.checkFirstRun}; cat /run/vrrp.pid; n=0; for i in 1 2 3 4 5 6 7 8 9 10; do pgrep -f hactl-check-nginx.sh >/dev/null && n=$((n+1)); sleep 0.1; done; echo $n`,
    );
    const [named, vrrp, running] = r.stdout.trim().split('\n');
    expect({ lb: lb.name, named }).toEqual({ lb: lb.name, named: vrrp });
    expect(Number(running)).toBeGreaterThanOrEqual(7);
  }
  expect(versions.size).toBe(3);
  const v = await hactl(['verify', '-i', lab.state.files.inventory]);
  expect({ code: v.exitCode, out: v.stdout.slice(-1500) }).toMatchObject({ code: 0 });
  // Ten quiet seconds: 100 adverts and 100 probes per node, and no state change anywhere.
  const before = await transitions();
  await new Promise((r) => setTimeout(r, 10_000));
  expect(await transitions()).toEqual(before);
}, 180_000);

test('stop-nginx moves the VIP within the fast bound (under a second, where the defaults promise 1.6 s)', async () => {
  const r = await hactl(['failover-test', '-i', lab.state.files.inventory, '--fault', 'stop-nginx', '--yes', '--json']);
  const f = JSON.parse(r.stdout).faults[0];
  expect({ code: r.exitCode, pass: f.pass, reasons: f.reasons }).toMatchObject({ code: 0, pass: true });
  expect(f.boundMs).toBeLessThan(1000);
  expect(f.downtimeMs).toBeLessThanOrEqual(f.boundMs + f.marginMs);
  expect(f.newMaster).toBe('lb2');
}, 180_000);
