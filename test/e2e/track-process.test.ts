/**
 * track_process where it cannot work (issue 15's "both" default, measured): every lab host has
 * PID and network namespaces of its own, as a container, and there the kernel ignores
 * keepalived's proc connector subscription, so keepalived counts no nginx and holds the VIP in
 * FAULT for good. Found on the lab: with `health_check.mode: both` keepalived's own dump said
 * "Current processes = 0" beside a running nginx, the VIP was held by no node, and stop-nginx
 * failovers took the script's fall × interval (2.8-3.6 s) instead of track_process's tens of
 * milliseconds. deploy now refuses such a check before changing anything, and verify says why.
 */
import {
  deployCli,
  hactl,
  inventoryVariant,
  managedFiles,
  removeScratch,
  snapshots,
  hashes,
} from './helpers/deploy.js';
import { useLab, vipHolders } from './helpers/index.js';

const lab = useLab();
let both: string;

beforeAll(async () => {
  const d = await deployCli(lab.state.files.inventory, '--yes');
  if (d.exitCode !== 0) throw new Error(`deploy failed (exit ${d.exitCode}):\n${d.stdout}\n${d.stderr}`);
  both = inventoryVariant(lab.state, 'both', (doc) => {
    doc.clusters[0].health_check = { mode: 'both' };
  });
}, 180_000);

afterAll(() => removeScratch());

const files = () => managedFiles(lab.state.clusters[0].name);

test('deploy refuses a track_process check on hosts that cannot hear process events, and changes nothing', async () => {
  const before = await snapshots(lab.state, ['lb1', 'lb2'], files());
  const r = await deployCli(both, '--yes', '--json');
  expect(r.exitCode).not.toBe(0);
  const out = JSON.parse(r.stdout) as { ok: boolean; phase: string; hosts: { host: string; error?: string }[] };
  expect({ ok: out.ok, phase: out.phase }).toEqual({ ok: false, phase: 'preflight' });
  for (const name of ['lb1', 'lb2']) {
    const h = out.hosts.find((x) => x.host === name);
    expect(h?.error).toMatch(/track_process.*proc connector.*FAULT.*health_check\.mode: script/);
  }
  const after = await snapshots(lab.state, ['lb1', 'lb2'], files());
  for (const name of ['lb1', 'lb2']) {
    expect(hashes(after[name])).toEqual(hashes(before[name]));
    expect(after[name].keepalived).toEqual(before[name].keepalived);
  }
  expect(await vipHolders(lab.state, lab.state.clusters[0].vips[0].ip)).toEqual(['lb1']);
}, 120_000);

test('verify with that check names it on every load balancer', async () => {
  const r = await hactl(['verify', '-i', both, '--json']);
  expect(r.exitCode).not.toBe(0);
  const checks = (JSON.parse(r.stdout) as { checks: { kind: string; target: string; ok: boolean; detail: string }[] })
    .checks;
  const hc = checks.filter((c) => c.kind === 'health-check');
  expect(hc.map((c) => [c.target, c.ok])).toEqual([
    ['lb1', false],
    ['lb2', false],
  ]);
  expect(hc[0].detail).toMatch(/proc connector/);
  // With the lab's own inventory (mode script) there is no such check.
  const plain = await hactl(['verify', '-i', lab.state.files.inventory, '--json']);
  expect(plain.exitCode).toBe(0);
  expect(
    (JSON.parse(plain.stdout) as { checks: { kind: string }[] }).checks.some((c) => c.kind === 'health-check'),
  ).toBe(false);
}, 120_000);
