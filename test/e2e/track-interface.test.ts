/**
 * Tracked links on the lab (issue 18 §2): each load balancer gets a second link (a veth
 * interface, `uplink0`, in its namespace) that the cluster tracks. Taking it down on the holder
 * moves the VIP within the bound vrrp-math computes from advert_int and the backup's priority
 * (FAULT: its skew; a weight: the master-down interval), and a flap shorter than down_delay
 * moves nothing. Measured from the operator side: the `ip link set` in the holder's namespace
 * to the first poll that sees the VIP on the backup alone.
 */
import { readFileSync } from 'node:fs';
import { loadInventoryText } from '../../src/inventory/load.js';
import { promisedLinkDownSeconds } from '../../src/inventory/vrrp-math.js';
import { deployCli, inventoryVariant, removeScratch, type InventoryDoc } from './helpers/deploy.js';
import { GiveUp, inNetns, useLab, vipHolders, waitFor, waitForVip } from './helpers/index.js';

const lab = useLab({ ...(process.env.HACTL_E2E_LAB_DIR ? { outDir: process.env.HACTL_E2E_LAB_DIR } : {}) });
const LINK = 'uplink0';
/** Polling (100 ms), nsenter and ip addr from the machine: what the operator side adds to VRRP's own time. */
const SLACK_S = 1.0;

let vip: string;

async function setLink(name: string, up: boolean): Promise<void> {
  const r = await inNetns(lab.state, name, ['ip', 'link', 'set', LINK, up ? 'up' : 'down']);
  if (r.exitCode !== 0) throw new Error(`ip link set ${LINK} in ${name}: ${r.stderr}`);
}

/** Deploys the lab inventory with `track` as the cluster's track_interface; returns the bound for lb1 → lb2. */
async function deployTracking(tag: string, track: Record<string, unknown>) {
  const file = inventoryVariant(lab.state, tag, (doc: InventoryDoc) => {
    doc.clusters[0].track_interface = [{ interface: LINK, ...track }];
  });
  const d = await deployCli(file, '--yes');
  if (d.exitCode !== 0) throw new Error(`deploy ${tag} failed (exit ${d.exitCode}):\n${d.stdout}\n${d.stderr}`);
  const inv = loadInventoryText(file, readFileSync(file, 'utf8'), {
    env: process.env,
    requireSecrets: false,
  }).inventory!;
  const v = inv.clusters[0].vips[0];
  const backup = v.nodes.find((n) => n.lb === 'lb2')!;
  const t = v.trackInterfaces![0];
  return { conf: d.stdout, bound: promisedLinkDownSeconds(t, v.advertInt, backup.priority) };
}

async function linkDownMovesVip(tag: string, track: Record<string, unknown>) {
  const { bound } = await deployTracking(tag, track);
  await waitForVip(lab.state, vip, ['lb1'], 30_000);
  const t0 = performance.now();
  await setLink('lb1', false);
  await waitForVip(lab.state, vip, ['lb2'], (bound.seconds + SLACK_S) * 1000 + 5_000);
  const s = (performance.now() - t0) / 1000;
  console.log(
    `${tag}: ${LINK} down on lb1, VIP on lb2 after ${s.toFixed(3)} s (bound ${bound.seconds} s: ${bound.formula})`,
  );
  expect(s).toBeLessThanOrEqual(bound.seconds + SLACK_S);
  await setLink('lb1', true);
  // Back up: lb1 has the higher priority again and preempts.
  await waitForVip(lab.state, vip, ['lb1'], 30_000);
  return s;
}

beforeAll(async () => {
  vip = lab.state.clusters[0].vips[0].ip;
  for (const lb of ['lb1', 'lb2']) {
    const r = await inNetns(lab.state, lb, [
      'sh',
      '-c',
      `ip link add ${LINK} type veth peer name ${LINK}p && ip link set ${LINK}p up && ip link set ${LINK} up`,
    ]);
    if (r.exitCode !== 0) throw new Error(`adding ${LINK} in ${lb}: ${r.stderr}`);
  }
}, 60_000);

afterAll(() => removeScratch());

describe('track_interface on the lab', () => {
  it('FAULT: the tracked link going down on the holder moves the VIP within the skew', async () => {
    await linkDownMovesVip('track-fault', {});
  }, 240_000);

  it('a weight (-60, down_delay 0.5 s): the VIP moves within down_delay + the master-down interval', async () => {
    await linkDownMovesVip('track-weight', { weight: -60, down_delay: 0.5, up_delay: 0.5 });
  }, 240_000);

  it('a flap shorter than down_delay (2 s) moves nothing', async () => {
    await deployTracking('track-flap', { down_delay: 2, up_delay: 0.5 });
    await waitForVip(lab.state, vip, ['lb1'], 30_000);
    await setLink('lb1', false);
    await setLink('lb1', true);
    // Watched for 4 s (twice the delay): lb1 holds the VIP alone at every poll.
    const until = performance.now() + 4000;
    let polls = 0;
    await waitFor(
      async () => {
        const h = await vipHolders(lab.state, vip);
        if (h.join() !== 'lb1') throw new GiveUp(`a flap moved the VIP: held by [${h.join()}]`);
        polls++;
        return performance.now() >= until;
      },
      { timeoutMs: 8000, intervalMs: 200, what: 'four seconds of polls after a short flap' },
    );
    expect(polls).toBeGreaterThan(5);
  }, 240_000);
});
