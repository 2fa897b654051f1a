/**
 * hactl failover-test: verify, confirm, then for each fault run it against the VIP's holder
 * over one SSH connection per node (a watcher channel plus commands), and verify again.
 */
import type { Cluster, Inventory, Vip } from '../inventory/model.js';
import type { LbConnector, Transport } from '../transport/transport.js';
import { UsageError } from '../errors.js';
import type { HttpClient } from '../util/http.js';
import type { HostFacts } from '../remote/facts.js';
import { verify, type VerifyReport } from '../verify/verify.js';
import { tlsTarget } from '../verify/tls-checks.js';
import { buildFault, FAULT_KINDS, type Fault, type FaultKind } from './faults.js';
import { findVip, planFault, type FaultPlan, type VipTarget } from './plan.js';
import { faultTarget, runFault, type FaultRun, type RunFaultOptions, type Timing } from './runner.js';
import { watchVips } from './vip-watch.js';
import type { ClientKind } from './report.js';
import { maxFaultSeconds } from './watchdog.js';
import { clusterProbeToken, deployedProbeToken, probeHeaders } from '../render/probe-token.js';
import { PATHS } from '../render/render.js';

export interface FailoverTestOptions {
  connect: LbConnector;
  /** HTTP from this machine (the probe and verify). Default: httpGet. */
  http?: HttpClient;
  /** The keep-alive probe's HTTP. Default: a keep-alive Agent per fault. */
  keepAliveHttp?: HttpClient;
  vip?: string;
  faults: FaultKind[];
  rate: number;
  signal: AbortSignal;
  /** Shown the plan; false cancels. Absent: go ahead. */
  confirm?: (preview: Preview) => Promise<boolean>;
  say?: (line: string) => void;
  timing?: Partial<Timing>;
  /** Who runs the test (user@machine): the hosts' fault records say so. */
  operator: string;
  /** The watchdog's maximum fault time for every fault. Default: per fault, maxFaultSeconds(bound). */
  maxFaultSeconds?: number;
  /** Client kinds probing through the VIP. Default: new. */
  clients?: ClientKind[];
}

export interface Preview {
  plans: FaultPlan[];
  faults: Fault[];
  /** Per fault: when its watchdog undoes it if hactl cannot. */
  maxFaultSeconds: number[];
  http: { url: string; rate: number; clients: ClientKind[] };
}

export interface FailoverTestResult {
  ok: boolean;
  phase: 'verify-before' | 'cancelled' | 'done';
  target: { cluster: string; vip: string; ip: string };
  before: VerifyReport;
  runs: FaultRun[];
  /** Faults that could not start (nothing was injected). */
  skipped: { fault: FaultKind; reason: string }[];
  after?: VerifyReport;
  aborted: boolean;
  restoreFailed: boolean;
}

export function parseClients(flag: string): ClientKind[] {
  if (flag === 'both') return ['new', 'keepalive'];
  if (flag === 'new' || flag === 'keepalive') return [flag];
  throw new UsageError(`unknown probe mode ${flag} (choose new, keepalive or both)`);
}

/** The token the holder's deployed nginx file carries (verify read it), else the one deploy would render. */
function probeTokenFor(target: VipTarget, holder: string, facts: ReadonlyMap<string, HostFacts>) {
  const conf = facts.get(holder)?.files[PATHS.nginxConf(target.cluster.name)]?.content;
  return deployedProbeToken(conf) ?? clusterProbeToken(target.cluster);
}

export function parseFaults(flag: string): FaultKind[] {
  if (flag === 'all') return [...FAULT_KINDS];
  if ((FAULT_KINDS as readonly string[]).includes(flag)) return [flag as FaultKind];
  throw new UsageError(`unknown fault ${flag} (choose ${FAULT_KINDS.join(', ')} or all)`);
}

function siteOf(cluster: Cluster, vip: Vip) {
  const site = cluster.sites.find((s) => s.vips.includes(vip));
  if (!site) throw new UsageError(`no site is served on ${vip.name}: there is nothing to probe through it`);
  const tls = tlsTarget(site, site.healthHost);
  return { port: site.port, path: site.healthPath, host: site.healthHost, ...(tls ? { tls } : {}) };
}

function holderOf(report: VerifyReport, target: VipTarget): string {
  const v = report.vips.find((x) => x.cluster === target.cluster.name && x.name === target.vip.name);
  return v?.holders.length === 1 ? v.holders[0] : target.vip.master;
}

type Common = Pick<RunFaultOptions, 'target' | 'http' | 'clients' | 'probeHeaders'>;

/** One SSH connection per node and one VIP watch for every fault; each fault in turn. */
async function runAll(o: FailoverTestOptions, common: Common, known: ReadonlyMap<string, HostFacts>) {
  const transports = new Map<string, Transport>();
  const facts = new Map<string, HostFacts>(known);
  const runs: FaultRun[] = [];
  const skipped: FailoverTestResult['skipped'] = [];
  const { cluster } = common.target;
  try {
    await Promise.all(cluster.lbs.map(async (lb) => transports.set(lb.name, await o.connect(lb))));
    const watch = watchVips(
      transports,
      cluster.vips.map((v) => v.ip),
    );
    try {
      await Promise.race([
        watch.ready,
        new Promise((_, rej) =>
          setTimeout(() => rej(new Error('the VIP watchers did not report within 10 s')), 10_000).unref(),
        ),
      ]);
      for (const kind of o.faults) {
        if (o.signal.aborted) break;
        try {
          const run = await runFault({
            ...common,
            kind,
            transports,
            facts,
            watch,
            rate: o.rate,
            signal: o.signal,
            timing: o.timing,
            ...(o.http ? { httpClient: o.http } : {}),
            ...(o.keepAliveHttp ? { keepAliveHttp: o.keepAliveHttp } : {}),
            ...(o.say ? { say: o.say } : {}),
            operator: o.operator,
            ...(o.maxFaultSeconds ? { maxFaultSeconds: o.maxFaultSeconds } : {}),
          });
          runs.push(run);
          if (!run.report.restore.ok) break; // never stack a second fault on a host left broken
        } catch (e) {
          skipped.push({ fault: kind, reason: (e as Error).message });
        }
      }
    } finally {
      await watch.stop();
    }
  } finally {
    await Promise.all([...transports.values()].map((t) => t.close().catch(() => undefined)));
  }
  return { runs, skipped };
}

export async function failoverTest(inv: Inventory, o: FailoverTestOptions): Promise<FailoverTestResult> {
  const say = o.say ?? (() => undefined);
  const target = findVip(inv, o.vip);
  const http = siteOf(target.cluster, target.vip);
  const base = {
    target: { cluster: target.cluster.name, vip: target.vip.name, ip: target.vip.ip },
    runs: [] as FaultRun[],
    skipped: [] as FailoverTestResult['skipped'],
    aborted: false,
    restoreFailed: false,
  };
  say('verifying the cluster before breaking anything…');
  const before = await verify(inv, { connect: o.connect, diagnose: false, ...(o.http ? { http: o.http } : {}) });
  if (!before.ok) return { ...base, ok: false, phase: 'verify-before', before };

  const holder = holderOf(before, target);
  const plans = o.faults.map((k) => planFault(k, target, holder));
  const ft = faultTarget(target.cluster, holder, before.facts, target.vip.family);
  const faults = o.faults.map((k) => buildFault(k, ft));
  const clients = o.clients ?? ['new'];
  const url = `${http.tls ? 'https' : 'http'}://${http.host}${http.path} via ${target.vip.ip}:${http.port}`;
  const maxes = plans.map((p) => o.maxFaultSeconds ?? maxFaultSeconds(p.boundMs));
  const preview = { plans, faults, maxFaultSeconds: maxes, http: { url, rate: o.rate, clients } };
  if (o.confirm && !(await o.confirm(preview))) return { ...base, ok: false, phase: 'cancelled', before };

  const common = { target, http, clients, probeHeaders: probeHeaders(probeTokenFor(target, holder, before.facts)) };
  const { runs, skipped } = await runAll(o, common, before.facts);
  say('verifying the cluster after restoring…');
  const after = await verify(inv, { connect: o.connect, diagnose: false, ...(o.http ? { http: o.http } : {}) });
  const restoreFailed = runs.some((r) => !r.report.restore.ok);
  const aborted = o.signal.aborted;
  const ok =
    !aborted &&
    !restoreFailed &&
    skipped.length === 0 &&
    runs.length === o.faults.length &&
    runs.every((r) => r.report.pass) &&
    after.ok;
  return { ...base, ok, phase: 'done', before, runs, skipped, after, aborted, restoreFailed };
}
