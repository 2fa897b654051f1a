/**
 * A VIP with several addresses on the lab (issue 18 §3), on the lab's one bridge: vip1 carries
 * its IPv4 address, a second IPv4 address, its IPv6 twin as an excluded address (one dual-stack
 * instance instead of two) and an address on another interface of each host (`uplink0`, a veth
 * made inside the namespace: the "public NIC", with the adverts on eth0). Stopping keepalived on
 * the holder moves all four as one: no poll sees them on both nodes, the backup ends up with all
 * of them within the graceful-stop bound, and the site answers through the IPv4 and IPv6 ones.
 */
import { execa } from 'execa';
import { readFileSync } from 'node:fs';
import { loadInventoryText } from '../../src/inventory/load.js';
import { promisedFailoverSeconds } from '../../src/inventory/vrrp-math.js';
import { deployCli, inventoryVariant, removeScratch, type InventoryDoc } from './helpers/deploy.js';
import { inHost, inNetns, servicePids, startService, stopService, useLab, waitFor } from './helpers/index.js';

const lab = useLab({ ipv6: true, ...(process.env.HACTL_E2E_LAB_DIR ? { outDir: process.env.HACTL_E2E_LAB_DIR } : {}) });
const LINK = 'uplink0';
const SLACK_S = 1.0;
let addresses: string[];
let file: string;

async function held(name: string): Promise<string[]> {
  const r = await inNetns(lab.state, name, ['ip', '-o', 'addr', 'show']);
  return addresses.filter((a) => r.stdout.includes(` ${a}/`));
}

async function status(ip: string): Promise<string> {
  const url = ip.includes(':') ? `http://[${ip}]${lab.state.healthPath}` : `http://${ip}${lab.state.healthPath}`;
  const r = await execa(
    'curl',
    ['-gs', '-o', '/dev/null', '-w', '%{http_code}', '-m', '3', '-H', `Host: ${lab.state.serverName}`, url],
    {
      reject: false,
    },
  );
  return String(r.stdout);
}

beforeAll(async () => {
  for (const lb of ['lb1', 'lb2']) {
    const add = `ip link add ${LINK} type veth peer name ${LINK}p && ip link set ${LINK}p up && ip link set ${LINK} up`;
    const r = await inNetns(lab.state, lb, ['sh', '-c', add]);
    if (r.exitCode !== 0) throw new Error(`adding ${LINK} in ${lb}: ${r.stderr}`);
  }
  const [v4, v6] = lab.state.clusters[0].vips;
  const second = v4.ip.replace(/\.\d+$/, '.190');
  file = inventoryVariant(lab.state, 'addresses', (doc: InventoryDoc) => {
    const c = doc.clusters[0];
    c.vips = c.vips.filter((v: { name: string }) => v.name !== v6.name);
    const vip = c.vips[0];
    vip.addresses = [{ address: `${second}/24` }, { address: '192.0.2.60/32', dev: LINK }];
    vip.excluded_addresses = [{ address: v6.cidr }];
    for (const s of c.sites) s.vips = s.vips.filter((n: string) => n !== v6.name);
  });
  addresses = [v4.ip, second, '192.0.2.60', v6.ip];
  const d = await deployCli(file, '--yes');
  if (d.exitCode !== 0) throw new Error(`deploy failed (exit ${d.exitCode}):\n${d.stdout}\n${d.stderr}`);
}, 300_000);

afterAll(() => removeScratch());

it('all addresses of the VIP move as one, within the graceful-stop bound, and serve', async () => {
  await waitFor(async () => (await held('lb1')).length === addresses.length && (await held('lb2')).length === 0, {
    timeoutMs: 30_000,
    what: `lb1 to hold ${addresses.join(', ')}`,
  });
  for (const a of [addresses[0], addresses[1], addresses[3]]) expect(await status(a)).toBe('200');
  const inv = loadInventoryText(file, readFileSync(file, 'utf8'), {
    env: process.env,
    requireSecrets: false,
  }).inventory!;
  const vip = inv.clusters[0].vips[0];
  const bound = promisedFailoverSeconds(
    'graceful-stop',
    inv.clusters[0].healthCheck,
    vip.advertInt,
    vip.nodes[1].priority,
  );
  const t0 = performance.now();
  await stopService(lab.state, 'lb1', 'keepalived');
  let moved = 0;
  const split: string[] = [];
  await waitFor(
    async () => {
      const [a, b] = await Promise.all([held('lb1'), held('lb2')]);
      if (a.length > 0 && b.length > 0) split.push(`lb1 [${a.join(' ')}] lb2 [${b.join(' ')}]`);
      if (b.length !== addresses.length || a.length > 0) return false;
      moved = (performance.now() - t0) / 1000;
      return true;
    },
    { timeoutMs: 20_000, intervalMs: 100, what: `lb2 to hold ${addresses.join(', ')} alone` },
  );
  console.log(
    `${addresses.length} addresses of vip1 on lb2 after ${moved.toFixed(3)} s (bound ${bound.seconds} s: ${bound.formula})`,
  );
  expect(split).toEqual([]);
  expect(moved).toBeLessThanOrEqual(bound.seconds + SLACK_S);
  for (const a of [addresses[0], addresses[1], addresses[3]]) expect(await status(a)).toBe('200');
  // The init script's stop returns before keepalived has exited; a start before that finds it "already running".
  await waitFor(async () => (await servicePids(lab.state, 'lb1', 'keepalived')).length === 0, {
    timeoutMs: 15_000,
    what: 'keepalived on lb1 to exit',
  });
  await startService(lab.state, 'lb1', 'keepalived');
  let seen = '';
  await waitFor(
    async () => {
      const [a, b] = await Promise.all([held('lb1'), held('lb2')]);
      seen = `lb1 [${a.join(' ')}] lb2 [${b.join(' ')}]`;
      return a.length === addresses.length && b.length === 0;
    },
    { timeoutMs: 30_000, what: 'the VIP back on lb1 by preemption' },
  ).catch(async (e: Error) => {
    const dump =
      'pgrep -a keepalived; rm -f /tmp/keepalived.data; kill -USR1 "$(cat /run/keepalived.pid)"; sleep 1; grep -E "State|priority|Interface|Address|fault" /tmp/keepalived.data';
    const ka = await Promise.all(['lb1', 'lb2'].map((n) => inHost(lab.state, n, dump, { check: false })));
    throw new Error(`${e.message}; last seen ${seen}; lb1: ${ka[0].stdout}\nlb2: ${ka[1].stdout}`);
  });
}, 240_000);
