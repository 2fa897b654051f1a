/**
 * hactl failover-test on a dual-master lab (vip1 mastered by lb1, vip2 by lb2): failing one
 * node moves its VIP to the other node and leaves the other VIP where it was, watched from
 * inside the hosts for the whole run.
 */
import { execa } from 'execa';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { failoverJson } from '../../src/ui/failover-view.js';
import { useLab, vipHolders, waitForVip } from './helpers/index.js';

const ROOT = join(fileURLToPath(import.meta.url), '../../..');
const lab = useLab({ dualMaster: true });
type Report = ReturnType<typeof failoverJson>;

async function cli(args: string[], timeoutMs = 180_000) {
  const r = await execa('node', [join(ROOT, 'bin/run.js'), ...args], {
    reject: false,
    timeout: timeoutMs,
    env: { NO_COLOR: '1' },
    cwd: ROOT,
  });
  return { code: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}

/** Runs failover-test while sampling `other`'s holders every ~100 ms; returns the report and every holder set seen. */
async function runWatching(
  vipName: string,
  fault: string,
  other: string,
): Promise<{ doc: Report; code: number; seen: Set<string> }> {
  const seen = new Set<string>();
  let running = true;
  const sampler = (async () => {
    while (running) {
      seen.add((await vipHolders(lab.state, other)).join('+'));
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  const r = await cli([
    'failover-test',
    '-i',
    lab.state.files.inventory,
    '--vip',
    vipName,
    '--fault',
    fault,
    '--yes',
    '--json',
  ]).finally(() => (running = false));
  await sampler;
  try {
    return { doc: JSON.parse(r.stdout) as Report, code: r.code, seen };
  } catch {
    throw new Error(`not JSON (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  }
}

beforeAll(async () => {
  const d = await cli(['deploy', '-i', lab.state.files.inventory, '--yes']);
  if (d.code !== 0) throw new Error(`deploy failed (exit ${d.code}):\n${d.stdout}\n${d.stderr}`);
  for (const v of lab.state.clusters[0].vips) await waitForVip(lab.state, v.ip, [v.master], 20_000);
}, 240_000);

describe('failover-test, dual master', () => {
  it('nginx dying on lb1 moves vip1 to lb2; vip2 stays on lb2 throughout', async () => {
    const [vip1, vip2] = lab.state.clusters[0].vips;
    const { doc, code, seen } = await runWatching(vip1.name, 'stop-nginx', vip2.ip);
    const f = doc.faults[0];
    expect({ fault: f.fault, old: f.oldMaster, new: f.newMaster, pass: f.pass, reasons: f.reasons }).toEqual({
      fault: 'stop-nginx',
      old: 'lb1',
      new: 'lb2',
      pass: true,
      reasons: [],
    });
    expect([...seen]).toEqual(['lb2']);
    expect({ code, ok: doc.ok, after: doc.after?.ok }).toEqual({ code: 0, ok: true, after: true });
    expect(await vipHolders(lab.state, vip1.ip)).toEqual(['lb1']);
  }, 200_000);

  it('keepalived stopped on lb2 moves vip2 to lb1; vip1 stays on lb1 throughout', async () => {
    const [vip1, vip2] = lab.state.clusters[0].vips;
    const { doc, code, seen } = await runWatching(vip2.name, 'stop-keepalived', vip1.ip);
    const f = doc.faults[0];
    expect({ fault: f.fault, old: f.oldMaster, new: f.newMaster, pass: f.pass, reasons: f.reasons }).toEqual({
      fault: 'stop-keepalived',
      old: 'lb2',
      new: 'lb1',
      pass: true,
      reasons: [],
    });
    expect([...seen]).toEqual(['lb1']);
    expect({ code, ok: doc.ok, after: doc.after?.ok }).toEqual({ code: 0, ok: true, after: true });
    expect(await vipHolders(lab.state, vip2.ip)).toEqual(['lb2']);
  }, 200_000);
});
