/**
 * The remote sections on real lab hosts. With RECORD_FIXTURES=1 this writes
 * test/fixtures/remote/<section>/<case>.json (args, script, output, parsed) for the unit tier;
 * without it, it runs every recorded case live and requires the parser to accept what the
 * real host prints now and to give a value of the same shape, so a format that drifts (a new
 * iproute2, keepalived, curl) fails here before it fails an operator.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { joinSections, parseSections } from '../../src/remote/section.js';
import { render } from '../../src/remote/script.js';
import { HOST_PATHS } from '../../src/remote/paths.js';
import type { LabState } from '../../src/lab/types.js';
import { FIXTURE_DIR, loadFixtures, plain, SECTIONS, type Fixture } from '../helpers/remote-fixtures.js';
import { deployCli, inventoryVariant, jsonOf, removeScratch } from './helpers/deploy.js';
import { inHost, service } from './helpers/host.js';
import { useLab } from './helpers/lab.js';

const lab = useLab();
afterAll(removeScratch);
const RECORD = process.env.RECORD_FIXTURES === '1';
/** RECORD_ONLY=a,b: record only these sections (the others keep their files). */
const ONLY = process.env.RECORD_ONLY?.split(',').filter(Boolean);

interface Case {
  section: string;
  case: string;
  host: string;
  args?: unknown;
  /** Run before the section on the same host (a state to record); undone by `after`. */
  before?: string;
  after?: string;
}

/** Stop keepalived and wait until it is gone; start it again and wait for its pid file. */
const STOP =
  'service keepalived stop >/dev/null 2>&1; i=0; while pidof keepalived >/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done';
const START =
  'service keepalived start >/dev/null 2>&1; i=0; while [ ! -s /run/keepalived.pid ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done';

/**
 * A fault record as a watchdog that died would leave it (no live pid), with an undo that
 * removes the partition rule recorded with it.
 */
const RULE = '-p 112 -m comment --comment hactl-failover-test -j DROP';
const LEFT_FAULT = [
  'mkdir -p /run/hactl/faults',
  `printf '%s\\n' 'iptables -w -D OUTPUT ${RULE}' > /run/hactl/faults/1-partition-abc.undo`,
  "printf '%s\\n' 'id 1-partition-abc' 'kind partition' 'describe drop VRRP' 'undo-summary rules removed' 'by alice@laptop' 'started 1796000000' 'deadline 1796000021' 'pid 999999' > /run/hactl/faults/1-partition-abc.state",
  `iptables -w -I OUTPUT ${RULE}`,
].join(' && ');
const CLEAN_FAULT = `rm -rf /run/hactl/faults; while iptables -w -D OUTPUT ${RULE} 2>/dev/null; do :; done`;

function cases(l: LabState): Case[] {
  const [lb1, lb2] = l.hosts.filter((h) => h.role === 'lb');
  const web = l.hosts.filter((h) => h.role === 'backend');
  const cluster = l.clusters[0];
  const vip = cluster.vips[0];
  const conf = HOST_PATHS.nginxConf(cluster.name);
  const probes = [
    ...web.map((b) => ({ id: `b-www-${b.name}`, ip: b.ip, port: 80, host: l.serverName, path: l.healthPath })),
    { id: `s-www-${vip.name}`, ip: vip.ip, port: 80, host: l.serverName, path: l.healthPath },
  ];
  return [
    { section: 'os', case: 'debian', host: lb1.name },
    // A lab host has PID and network namespaces of its own, as a container: no proc events.
    { section: 'proc-events', case: 'own-namespaces', host: lb1.name },
    { section: 'programs', case: 'installed', host: lb1.name },
    {
      // What this machine remembered is not what the host has now: the versions are asked.
      section: 'programs',
      case: 'known-but-replaced',
      host: lb1.name,
      args: { known: { keepalived: { id: '1:1:1:1', version: '2.0.0' }, nginx: { id: '1:1:1:2', version: '1.0.0' } } },
    },
    {
      section: 'sysctl',
      case: 'deployed',
      host: lb1.name,
      args: { keys: ['net.ipv4.ip_nonlocal_bind', 'net.ipv6.ip_nonlocal_bind'] },
    },
    { section: 'net', case: 'master', host: lb1.name },
    { section: 'net', case: 'backup', host: lb2.name },
    {
      section: 'files',
      case: 'deployed',
      host: lb1.name,
      args: { paths: [HOST_PATHS.keepalivedConf, conf, '/etc/hactl-missing.conf'] },
    },
    { section: 'managed', case: 'deployed', host: lb1.name, args: { dir: HOST_PATHS.nginxConfDir } },
    { section: 'procs', case: 'running', host: lb1.name },
    { section: 'vrrp-notify', case: 'master', host: lb1.name },
    { section: 'nginx-status', case: 'answering', host: lb1.name, args: { port: 8099 } },
    { section: 'nginx-status', case: 'nothing-listens', host: lb1.name, args: { port: 8098 } },
    { section: 'nginx-test', case: 'valid', host: lb1.name },
    { section: 'keepalived-data', case: 'master', host: lb1.name },
    { section: 'keepalived-data', case: 'backup', host: lb2.name },
    { section: 'keepalived-stats', case: 'master', host: lb1.name },
    { section: 'firewall', case: 'none', host: lb1.name },
    {
      section: 'firewall',
      case: 'drop',
      host: lb2.name,
      before: `iptables -w -I INPUT -p vrrp -s ${lb1.ip} -j DROP`,
      after: `iptables -w -D INPUT -p vrrp -s ${lb1.ip} -j DROP`,
    },
    { section: 'http-probes', case: 'lab', host: lb1.name, args: { probes, tokenFile: conf } },
    { section: 'hactl-faults', case: 'none', host: lb1.name },
    { section: 'hactl-faults', case: 'left', host: lb2.name, before: LEFT_FAULT, after: CLEAN_FAULT },
    { section: 'hactl-undo', case: 'nothing', host: lb1.name },
    { section: 'hactl-undo', case: 'record', host: lb2.name, before: LEFT_FAULT, after: CLEAN_FAULT },
    {
      section: 'health-wait',
      case: 'ready',
      host: lb1.name,
      args: { statusPort: 8099, lbName: lb1.name, mustMaster: [vip.name], waitSeconds: 5 },
    },
    { section: 'addrs4', case: 'master', host: lb1.name },
    { section: 'neigh', case: 'lb1', host: lb1.name },
    { section: 'conf-vrids', case: 'deployed', host: lb1.name },
    { section: 'adverts', case: 'backup-hears-master', host: lb2.name, args: { seconds: 2 } },
    { section: 'vip-watch', case: 'two-ticks', host: lb1.name, args: { interval: 0.05, ticks: 2 } },
    { section: 'release-current', case: 'deployed', host: lb1.name },
    { section: 'drain', case: 'in-service', host: lb1.name },
    {
      section: 'drain',
      case: 'node-and-backend-drained',
      host: lb2.name,
      // lb2 is the backup: a drained backup moves nothing, and the record is only read here.
      before: `cp ${HOST_PATHS.drainFile} /tmp/drain.keep && printf '%s\\n' -253 > ${HOST_PATHS.drainFile} && printf '%s\\n' 'web1 ${web[0].ip}:80' > ${HOST_PATHS.drainedBackends}`,
      after: `mv -f /tmp/drain.keep ${HOST_PATHS.drainFile}; rm -f ${HOST_PATHS.drainedBackends}`,
    },
    {
      section: 'backend-connections',
      case: 'one-open',
      host: lb1.name,
      // A connection held open to web1 (the backend's nginx keeps an idle one for 75 s).
      before: `nohup bash -c 'exec 3<>/dev/tcp/${web[0].ip}/80; sleep 10' >/dev/null 2>&1 & echo $! > /tmp/bc.pid; sleep 0.5`,
      after: 'kill "$(cat /tmp/bc.pid)" 2>/dev/null; rm -f /tmp/bc.pid',
      args: { targets: web.map((b) => ({ name: b.name, address: b.ip, port: 80 })) },
    },
    {
      section: 'backend-connections',
      case: 'idle',
      host: lb1.name,
      args: { targets: web.map((b) => ({ name: b.name, address: b.ip, port: 80 })) },
    },
    { section: 'releases', case: 'deployed', host: lb1.name },
    {
      section: 'hook-commands',
      case: 'present-and-missing',
      host: lb1.name,
      args: { paths: ['/bin/sh', '/usr/local/bin/hactl-missing-hook'] },
    },
    // Last: the init script's stop returns before keepalived has exited, so these wait for it.
    {
      section: 'procs',
      case: 'keepalived-stopped',
      host: lb2.name,
      before: STOP,
      after: START,
    },
    {
      section: 'keepalived-data',
      case: 'not-running',
      host: lb2.name,
      before: STOP,
      after: START,
    },
    // Last: the init script's stop returns before keepalived has exited, so these wait for it.
  ];
}

async function record(c: Case): Promise<Fixture> {
  const section = SECTIONS[c.section](c.args);
  const text = joinSections([section]).text;
  if (c.before) await inHost(lab.state, c.host, c.before);
  try {
    const r = await inHost(lab.state, c.host, render(joinSections([section])), { timeoutMs: 30_000 });
    const [parsed] = parseSections([section] as const, r.stdout);
    return {
      section: c.section,
      case: c.case,
      args: c.args ?? null,
      script: text,
      output: r.stdout,
      parsed: plain(parsed),
    };
  } finally {
    if (c.after) await inHost(lab.state, c.host, c.after, { check: false });
  }
}

/** The same keys (recursively for objects), for values whose content varies from run to run. */
function shape(v: unknown): unknown {
  if (Array.isArray(v)) return v.length ? 'array' : 'empty';
  if (v && typeof v === 'object')
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, typeof (v as Record<string, unknown>)[k]]),
    );
  return typeof v;
}

describe('remote sections on real lab hosts', () => {
  beforeAll(async () => {
    // No VRRP password in fixtures that are committed: the lab deploys without authentication here.
    const inv = inventoryVariant(lab.state, 'fixtures', (doc) => {
      for (const c of doc.clusters) delete (c.vrrp as { auth?: unknown } | undefined)?.auth;
    });
    const r = await deployCli(inv, '--yes', '--json');
    expect(jsonOf(r).ok).toBe(true);
  }, 120_000);

  test('every recorded case parses what the real host prints now, to a value of the same shape', async () => {
    const live = cases(lab.state);
    const byName = new Map(live.map((c) => [`${c.section}/${c.case}`, c]));
    const recorded = loadFixtures();
    if (RECORD) {
      for (const c of live.filter((x) => !ONLY || ONLY.includes(x.section))) {
        const f = await record(c);
        mkdirSync(join(FIXTURE_DIR, c.section), { recursive: true });
        writeFileSync(join(FIXTURE_DIR, c.section, `${c.case}.json`), `${JSON.stringify(f, null, 2)}\n`);
      }
      return;
    }
    expect(recorded.map((f) => `${f.section}/${f.case}`).sort()).toEqual([...byName.keys()].sort());
    for (const f of recorded) {
      const now = await record(byName.get(`${f.section}/${f.case}`)!);
      expect([`${f.section}/${f.case}`, shape(now.parsed)]).toEqual([`${f.section}/${f.case}`, shape(f.parsed)]);
    }
  }, 180_000);

  test('the watch and the stats see a running keepalived: the recorded states are what they should be', async () => {
    const [lb1] = lab.state.hosts.filter((h) => h.role === 'lb');
    const f = await record({ section: 'keepalived-data', case: 'live', host: lb1.name });
    expect(f.parsed).toEqual({ [lab.state.clusters[0].vips[0].name]: expect.objectContaining({ state: 'MASTER' }) });
    await service(lab.state, lb1.name, 'nginx', 'reload');
  });
});
