/**
 * `hactl deploy` of a dual-master lab: two VIPs, vip1 mastered by lb1 and vip2 by lb2, one
 * site on both. Each VIP must land on its own master and the site answer through each.
 */
import { PATHS } from '../../src/render/render.js';
import { useLab, waitForVip } from './helpers/index.js';
import { backendsThroughVip, deployCli, hostOf, jsonOf, managedFiles, snapshots } from './helpers/deploy.js';

const lab = useLab({ dualMaster: true });
const LBS = ['lb1', 'lb2'];
const FILES = managedFiles('lab1');

describe('hactl deploy, dual master', () => {
  test('deploys two VIPs, each on its own master, the site answering through both', async () => {
    const vips = lab.state.clusters[0].vips;
    expect(vips.map((v) => v.master)).toEqual(['lb1', 'lb2']);

    const r = await deployCli(lab.state.files.inventory, '--yes', '--json');
    expect({ exit: r.exitCode, err: r.stderr.slice(-3000) }).toMatchObject({ exit: 0 });
    const j = jsonOf(r);
    expect(j).toMatchObject({ ok: true, phase: 'done' });
    for (const h of LBS) expect(hostOf(j, h).status).toBe('changed');
    expect(
      j.checks
        .filter((c) => c.kind === 'vip')
        .map((c) => c.detail)
        .sort(),
    ).toEqual(['held by lb1 (its master)', 'held by lb2 (its master)']);

    for (const v of vips) await waitForVip(lab.state, v.ip, [v.master], 20_000);
    for (const v of vips) {
      const through = await backendsThroughVip(v.ip, 'www.lab.test', '/webserver.html', ['web1', 'web2', 'web3']);
      expect({ vip: v.name, failures: through.failures, seen: [...through.seen].sort() }).toEqual({
        vip: v.name,
        failures: [],
        seen: ['web1', 'web2', 'web3'],
      });
    }

    // Each keepalived.conf has both instances, MASTER where the host is the master.
    const confs = await snapshots(lab.state, LBS, FILES);
    for (const h of LBS) expect(confs[h].files[PATHS.keepalivedConf].sha).not.toBe('absent');

    // And a second run changes nothing.
    const again = await deployCli(lab.state.files.inventory, '--yes', '--json');
    expect({ exit: again.exitCode, err: again.stderr.slice(-3000) }).toMatchObject({ exit: 0 });
    for (const h of LBS)
      expect(hostOf(jsonOf(again), h)).toMatchObject({ status: 'unchanged', filesChanged: [], servicesReloaded: [] });
    expect(await snapshots(lab.state, LBS, FILES)).toEqual(confs);
    for (const v of vips) await waitForVip(lab.state, v.ip, [v.master], 10_000);
  }, 150_000);
});
