/**
 * A second NIC on the lab (issue 18 §3): `lab up --private-net` gives each load balancer eth1 on
 * a private bridge of its cluster, and the lab inventory sends VRRP adverts there while the VIP
 * stays on eth0, the side this machine reaches the site on. Deployed as it is, the VIP must sit
 * on the master's eth0 (never eth1), adverts must cross eth1 only (iptables counters of IP
 * protocol 112 per interface in each host's netns: no tcpdump), and two faults of the holder
 * must move the VIP to lb2's eth0 with the site answering through lb2 from the machine (its
 * neighbour entry for the VIP is lb2's eth0 MAC, which only a gratuitous ARP on eth0 gives it):
 * keepalived stopped (priority 0 over eth1: the skew) and the private link taken down (lb1 in
 * FAULT, silent on eth1: the master-down interval). After each restore the VIP returns to lb1.
 */
import { execa } from 'execa';
import { readFileSync } from 'node:fs';
import { loadInventoryText } from '../../src/inventory/load.js';
import { promisedFailoverSeconds } from '../../src/inventory/vrrp-math.js';
import { deployCli } from './helpers/deploy.js';
import {
  inHost,
  inNetns,
  linkDown,
  linkUp,
  servicePids,
  startService,
  stopService,
  useLab,
  vipHolders,
  waitFor,
  waitForVip,
} from './helpers/index.js';

const lab = useLab({
  privateNet: true,
  ...(process.env.HACTL_E2E_LAB_DIR ? { outDir: process.env.HACTL_E2E_LAB_DIR } : {}),
});
/** Polling (100 ms), nsenter and ip addr from the machine: what the operator side adds to VRRP's own time. */
const SLACK_S = 1.0;
const COUNT = ['-m', 'comment', '--comment', 'hactl-e2e-vrrp-count'];
const RULES = [
  ['OUTPUT', '-o', 'eth0'],
  ['OUTPUT', '-o', 'eth1'],
  ['INPUT', '-i', 'eth0'],
  ['INPUT', '-i', 'eth1'],
] as const;

type Counts = Record<'out0' | 'out1' | 'in0' | 'in1', number>;

let vip: string;
let cidr: string;
let bounds: { graceful: number; silent: number; formula: string };

async function addressesOn(name: string, dev: 'eth0' | 'eth1'): Promise<string> {
  const r = await inNetns(lab.state, name, ['ip', '-4', '-o', 'addr', 'show', 'dev', dev]);
  if (r.exitCode !== 0) throw new Error(`ip addr in ${name}: ${r.stderr}`);
  return r.stdout;
}

async function iptables(name: string, args: string[]): Promise<string> {
  const r = await inNetns(lab.state, name, ['iptables', '-w', ...args]);
  if (r.exitCode !== 0) throw new Error(`iptables ${args.join(' ')} in ${name}: ${r.stderr}`);
  return r.stdout;
}

/** VRRP packets (IP protocol 112) each host sent and received per interface during `ms`. */
async function vrrpCounts(names: string[], ms = 3500): Promise<Record<string, Counts>> {
  const spec = (r: (typeof RULES)[number]) => [r[0], r[1], r[2], '-p', '112', ...COUNT];
  for (const n of names) for (const r of RULES) await iptables(n, ['-I', ...spec(r)]);
  try {
    await new Promise((res) => setTimeout(res, ms));
    const out: Record<string, Counts> = {};
    for (const n of names) {
      const counts: Counts = { out0: 0, out1: 0, in0: 0, in1: 0 };
      for (const chain of ['INPUT', 'OUTPUT']) {
        for (const line of (await iptables(n, ['-L', chain, '-v', '-n', '-x'])).split('\n')) {
          if (!line.includes('hactl-e2e-vrrp-count')) continue;
          // pkts bytes [target] prot opt in out source destination ...; these rules have no target.
          const [pkts, , , , inIf, outIf] = line.trim().split(/\s+/);
          const key = chain === 'OUTPUT' ? (outIf === 'eth0' ? 'out0' : 'out1') : inIf === 'eth0' ? 'in0' : 'in1';
          counts[key] = Number(pkts);
        }
      }
      out[n] = counts;
    }
    return out;
  } finally {
    for (const n of names) for (const r of RULES) await iptables(n, ['-D', ...spec(r)]).catch(() => '');
  }
}

/** The site through the VIP from this machine, and the MAC the machine's ARP entry for the VIP has. */
async function siteFromMachine(): Promise<{ status: string; body: string; mac: string }> {
  const r = await execa(
    'curl',
    [
      '-s',
      '-m',
      '3',
      '-w',
      '\n%{http_code}',
      '-H',
      `Host: ${lab.state.serverName}`,
      `http://${vip}${lab.state.healthPath}`,
    ],
    { reject: false },
  );
  const lines = String(r.stdout).split('\n');
  const neigh = await execa('ip', ['-j', 'neigh', 'show', vip, 'dev', lab.state.bridge]);
  const entries = JSON.parse(neigh.stdout || '[]') as { lladdr?: string }[];
  return { status: lines.at(-1) ?? '', body: lines.slice(0, -1).join('\n'), mac: entries[0]?.lladdr ?? '' };
}

/** From the host's netns (its sysfs is not mounted there: /sys/class/net would be the machine's). */
async function eth0Mac(name: string): Promise<string> {
  const r = await inNetns(lab.state, name, ['ip', '-j', 'link', 'show', 'eth0']);
  return (JSON.parse(r.stdout || '[]') as { address?: string }[])[0]?.address ?? '';
}

/** keepalived running on lb1 again (a failed test may have left it stopped) and the VIP there. */
async function restoreLb1(): Promise<void> {
  if ((await servicePids(lab.state, 'lb1', 'keepalived')).length === 0) {
    await startService(lab.state, 'lb1', 'keepalived');
  }
  await backOnLb1();
}

/** The holder has the VIP on eth0 and nowhere else; the other node has it nowhere. */
async function expectHeldOnEth0(holder: string, other: string): Promise<void> {
  expect(await addressesOn(holder, 'eth0')).toContain(` ${cidr} `);
  expect(await addressesOn(holder, 'eth1')).not.toContain(` ${vip}/`);
  for (const dev of ['eth0', 'eth1'] as const) expect(await addressesOn(other, dev)).not.toContain(` ${vip}/`);
}

/** The site answers from the machine through `holder`: 200, a backend's answer, and its MAC. */
async function expectServedBy(holder: string): Promise<void> {
  const mac = await eth0Mac(holder);
  let seen = { status: '', body: '', mac: '' };
  await waitFor(
    async () => {
      seen = await siteFromMachine();
      return seen.status === '200' && seen.mac === mac;
    },
    { timeoutMs: 10_000, intervalMs: 200, what: `the site through ${vip} answered by ${holder} (${mac})` },
  ).catch((e: Error) => {
    throw new Error(`${e.message}; last: ${seen.status} via ${seen.mac}: ${seen.body}`);
  });
  expect(seen.body).toMatch(/^backend=web\d+ host=www\.lab\.test /);
}

/** Waits until lb2 alone holds the VIP (on eth0); returns the seconds since t0. */
async function movedToLb2(t0: number, bound: number): Promise<number> {
  await waitForVip(lab.state, vip, ['lb2'], (bound + SLACK_S) * 1000 + 10_000);
  return (performance.now() - t0) / 1000;
}

async function backOnLb1(): Promise<void> {
  await waitForVip(lab.state, vip, ['lb1'], 30_000).catch(async (e: Error) => {
    const dump =
      'rm -f /tmp/keepalived.data; kill -USR1 "$(cat /run/keepalived.pid)"; sleep 1; grep -E "State|priority|Interface|fault" /tmp/keepalived.data';
    const ka = await Promise.all(['lb1', 'lb2'].map((n) => inHost(lab.state, n, dump, { check: false })));
    throw new Error(`${e.message}; lb1: ${ka[0].stdout}\nlb2: ${ka[1].stdout}`);
  });
  await expectHeldOnEth0('lb1', 'lb2');
  await expectServedBy('lb1');
}

beforeAll(async () => {
  const file = lab.state.files.inventory;
  const d = await deployCli(file, '--yes');
  if (d.exitCode !== 0) throw new Error(`deploy failed (exit ${d.exitCode}):\n${d.stdout}\n${d.stderr}`);
  const inv = loadInventoryText(file, readFileSync(file, 'utf8'), {
    env: process.env,
    requireSecrets: false,
  }).inventory!;
  const c = inv.clusters[0];
  const v = c.vips[0];
  vip = v.ip;
  cidr = v.cidr;
  const backup = v.nodes.find((n) => n.lb === 'lb2')!.priority;
  const silent = promisedFailoverSeconds('silent', c.healthCheck, v.advertInt, backup);
  bounds = {
    graceful: promisedFailoverSeconds('graceful-stop', c.healthCheck, v.advertInt, backup).seconds,
    silent: silent.seconds,
    formula: silent.formula,
  };
}, 300_000);

describe('a public-NIC VIP with adverts on the private NIC', () => {
  it('the lab has eth1 on a private bridge without the machine; the inventory puts adverts on eth1, the VIP on eth0', async () => {
    const priv = lab.state.clusters[0].privateNet!;
    expect(priv.subnet).toBe('198.18.1.0/24');
    const bridgeAddrs = await execa('ip', ['-4', '-o', 'addr', 'show', 'dev', priv.bridge]);
    expect(bridgeAddrs.stdout.trim()).toBe('');
    for (const lb of lab.lbs()) expect(await addressesOn(lb.name, 'eth1')).toContain(` ${lb.private!.ip}/24 `);
    const conf = await inHost(lab.state, 'lb1', 'cat /etc/keepalived/keepalived.conf');
    expect(conf.stdout).toMatch(/^\s*interface eth1$/m);
    expect(conf.stdout).toContain(`${cidr} dev eth0`);
  });

  it('the VIP is on lb1 eth0 only, adverts cross eth1 only, the machine reaches the site through lb1', async () => {
    await waitForVip(lab.state, vip, ['lb1'], 30_000);
    await expectHeldOnEth0('lb1', 'lb2');
    const n = await vrrpCounts(['lb1', 'lb2']);
    console.log(`VRRP packets in 3.5 s: ${JSON.stringify(n)}`);
    expect(n.lb1.out1).toBeGreaterThanOrEqual(2);
    expect(n.lb2.in1).toBeGreaterThanOrEqual(2);
    expect([n.lb1.out0, n.lb1.in0, n.lb2.out0, n.lb2.in0]).toEqual([0, 0, 0, 0]);
    // The backup is silent: it only listens.
    expect(n.lb2.out1).toBe(0);
    await expectServedBy('lb1');
  }, 60_000);

  it('keepalived stopped on lb1: the VIP moves to lb2 eth0 within the skew, adverts from lb2 over eth1, and back', async () => {
    await waitForVip(lab.state, vip, ['lb1'], 30_000);
    const t0 = performance.now();
    await stopService(lab.state, 'lb1', 'keepalived');
    try {
      const s = await movedToLb2(t0, bounds.graceful);
      console.log(`stop-keepalived: VIP on lb2 after ${s.toFixed(3)} s (bound ${bounds.graceful} s)`);
      expect(s).toBeLessThanOrEqual(bounds.graceful + SLACK_S);
      await expectHeldOnEth0('lb2', 'lb1');
      await expectServedBy('lb2');
      const n = await vrrpCounts(['lb2']);
      console.log(`VRRP packets from the new master in 3.5 s: ${JSON.stringify(n)}`);
      expect(n.lb2.out1).toBeGreaterThanOrEqual(2);
      expect(n.lb2.out0).toBe(0);
    } finally {
      // The init script's stop returns before keepalived has exited; a start before that finds it "already running".
      await waitFor(async () => (await servicePids(lab.state, 'lb1', 'keepalived')).length === 0, {
        timeoutMs: 15_000,
        what: 'keepalived on lb1 to exit',
      });
      await startService(lab.state, 'lb1', 'keepalived');
    }
    await backOnLb1();
  }, 120_000);

  it("lb1's private link down: lb1 goes FAULT and releases the VIP, lb2 takes it on eth0 within the master-down interval, and back", async () => {
    await restoreLb1();
    const t0 = performance.now();
    await linkDown(lab.state, 'lb1', 'inside', 'eth1');
    try {
      const s = await movedToLb2(t0, bounds.silent);
      console.log(`eth1 down on lb1: VIP on lb2 after ${s.toFixed(3)} s (bound ${bounds.silent} s: ${bounds.formula})`);
      expect(s).toBeLessThanOrEqual(bounds.silent + SLACK_S);
      // lb1's public side is up, but in FAULT it holds nothing: no split brain on eth0.
      expect(await vipHolders(lab.state, vip)).toEqual(['lb2']);
      await expectHeldOnEth0('lb2', 'lb1');
      await expectServedBy('lb2');
    } finally {
      await linkUp(lab.state, 'lb1', 'inside', 'eth1');
    }
    await backOnLb1();
  }, 120_000);
});
