/**
 * What deploy does on one host, each as one round trip: read facts (under the deploy lock),
 * apply a plan, poll health. Deals only with the Transport seam; no printing.
 */
import { randomBytes } from 'node:crypto';
import type { Transport, ExecResult } from '../transport/transport.js';
import { factsScript, parseFacts, type HostFacts } from '../facts/host-facts.js';
import { lockScript, parseLockOutput, LOCK_EXIT_HELD } from './lock.js';
import { applyScript, bootstrapCommand, APPLY_EXIT } from './apply-script.js';
import type { HostPlan } from '../plan/plan.js';
import type { Cluster, LoadBalancer } from '../inventory/model.js';
import { PATHS, type HostRender } from '../render/render.js';
import { sh } from '../shell/quote.js';

export class HostError extends Error {
  constructor(
    readonly host: string,
    readonly step: string,
    message: string,
    readonly output = '',
  ) {
    super(`${host}: ${step}: ${message}${output ? `\n${output.trimEnd().replace(/^/gm, '    ')}` : ''}`);
    this.name = 'HostError';
  }
}

export function factsRequest(render: HostRender, firewall = false) {
  return { files: render.files.map((f) => f.path), statusPort: render.cluster.nginxStatusPort, firewall };
}

export async function readFacts(
  t: Transport,
  render: HostRender,
  opts: { firewall?: boolean; timeoutMs?: number } = {},
): Promise<HostFacts> {
  const r = await t.exec(factsScript(factsRequest(render, opts.firewall)), { timeoutMs: opts.timeoutMs ?? 20000 });
  if (r.code !== 0) throw new HostError(t.name, 'facts', `the facts script failed (exit ${r.code})`, r.stderr);
  return parseFacts(r.stdout);
}

export interface HeldLock {
  facts: HostFacts;
  stale?: string;
  release(): Promise<void>;
}

/** Takes the deploy lock and reads facts in the same round trip; the lock lives until release(). */
export async function lockAndReadFacts(
  t: Transport,
  render: HostRender,
  holder: string,
  timeoutMs = 30000,
): Promise<HeldLock> {
  const ac = new AbortController();
  let out = '';
  let ready!: () => void;
  const factsReady = new Promise<void>((resolve) => (ready = resolve));
  const done: Promise<ExecResult | Error> = t
    .exec(lockScript(holder, factsScript(factsRequest(render))), {
      signal: ac.signal,
      holdStdin: true,
      onStdout: (chunk) => {
        if (out.includes('\n@@end\n')) return;
        out += chunk;
        if (out.includes('\n@@end\n')) ready();
      },
    })
    .catch((e: Error) => e);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), timeoutMs)));
  const first = await Promise.race([factsReady.then(() => 'facts' as const), done, timeout]);
  clearTimeout(timer);
  const release = async () => {
    ac.abort();
    await done;
  };
  if (first === 'facts') {
    const lock = parseLockOutput(out);
    return { facts: parseFacts(out.slice(out.indexOf('@@lock acquired'))), stale: lock.stale, release };
  }
  await release();
  if (first === 'timeout') throw new HostError(t.name, 'lock', `no facts within ${timeoutMs} ms`);
  if (first instanceof Error) throw first;
  if (first.code === LOCK_EXIT_HELD) {
    const lock = parseLockOutput(first.stdout);
    throw new HostError(
      t.name,
      'lock',
      `another deploy holds the lock: ${lock.holder}. Wait for it to finish; if that process is gone, its lock is released with its connection`,
    );
  }
  throw new HostError(t.name, 'lock', `could not take the deploy lock (exit ${first.code})`, first.stderr);
}

export interface ApplyOutcome {
  steps: string[];
  ms: number;
}

export async function applyPlan(
  t: Transport,
  plan: HostPlan,
  facts: HostFacts,
  secrets: string[],
): Promise<ApplyOutcome> {
  const token = randomBytes(8).toString('hex');
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '');
  const started = performance.now();
  const r = await t.exec(bootstrapCommand(token), { stdin: applyScript(plan, facts, token, stamp), timeoutMs: 600000 });
  const steps = [...r.stdout.matchAll(/^@@(.*)$/gm)].map((m) => m[1]);
  const mask = (s: string) => secrets.reduce((acc, sec) => acc.split(sec).join('[REDACTED]'), s);
  if (r.code === APPLY_EXIT.ok) return { steps, ms: performance.now() - started };
  const what: Record<number, string> = {
    [APPLY_EXIT.validationFailed]:
      'validation failed; the previous files were restored byte for byte and nothing was reloaded',
    [APPLY_EXIT.restoreFailed]: 'validation failed AND restoring the previous files failed: fix this host by hand',
    [APPLY_EXIT.packagesFailed]: 'installing packages failed; no file was changed',
    [APPLY_EXIT.sysctlFailed]: 'setting the sysctl failed',
    [APPLY_EXIT.serviceFailed]: 'the new configuration is valid and in place, but a service did not reload/start',
    [APPLY_EXIT.incomplete]: 'the connection broke while sending the change; nothing was changed',
  };
  throw new HostError(t.name, 'apply', what[r.code] ?? `the apply script failed (exit ${r.code})`, mask(r.stderr));
}

export interface Health {
  ok: boolean;
  problems: string[];
  facts: HostFacts;
}

/** Healthy: nginx serves our status endpoint, keepalived runs, every VRRP instance is MASTER or BACKUP (MASTER where this host is the preempting master). */
export function assessHealth(cluster: Cluster, lb: LoadBalancer, facts: HostFacts, strictMaster: boolean): Health {
  const problems: string[] = [];
  if (!facts.running.nginx) problems.push('nginx is not running');
  else if (!facts.nginxStatus?.startsWith(`ok ${lb.name}`))
    problems.push(
      `nginx does not answer its status endpoint 127.0.0.1:${cluster.nginxStatusPort} with this configuration`,
    );
  if (!facts.running.keepalived) problems.push('keepalived is not running');
  else
    for (const vip of cluster.vips) {
      const held = facts.addresses.some((a) => a.cidr.split('/')[0] === vip.ip);
      const state = facts.vrrp[vip.name]?.state ?? (held ? 'MASTER' : 'BACKUP');
      if (state !== 'MASTER' && state !== 'BACKUP') problems.push(`${vip.name} is in state ${state}`);
      else if (strictMaster && vip.master === lb.name && vip.preempt && state !== 'MASTER')
        problems.push(`${vip.name} is ${state}, expected MASTER`);
    }
  return { ok: problems.length === 0, problems, facts };
}

/**
 * Waits on the host, up to `waitSeconds`, until nginx answers its status endpoint with this
 * configuration, keepalived runs and each VIP this host must master is MASTER; then reads the
 * facts. One round trip where polling from here would take one per interval (VRRP takes
 * 3 × advert_int to elect). The verdict stays with assessHealth; this only waits.
 */
export function healthScript(render: HostRender, strictMaster: boolean, waitSeconds: number): string {
  const facts = factsScript({ files: [], statusPort: render.cluster.nginxStatusPort });
  if (waitSeconds <= 0) return facts;
  const masters = strictMaster
    ? render.cluster.vips.filter((v) => v.master === render.lb.name && v.preempt).map((v) => v.name)
    : [];
  const ready = [
    `curl -fsS -m 1 http://127.0.0.1:${render.cluster.nginxStatusPort}/hactl-health 2>/dev/null | grep -qx ${sh([`ok ${render.lb.name}`])}`,
    'pidof keepalived >/dev/null 2>&1',
    ...masters.map((name) => `[ "$(cut -d' ' -f1 ${sh([`${PATHS.stateDir}/${name}`])} 2>/dev/null)" = MASTER ]`),
  ];
  return `i=0; while [ $i -lt ${Math.ceil(waitSeconds * 10)} ]; do if ${ready.join(' && ')}; then break; fi; i=$((i+1)); sleep 0.1; done\n${facts}`;
}

export async function readHealth(
  t: Transport,
  render: HostRender,
  strictMaster: boolean,
  waitSeconds = 0,
): Promise<Health> {
  const r = await t.exec(healthScript(render, strictMaster, waitSeconds), { timeoutMs: 10000 + waitSeconds * 1000 });
  if (r.code !== 0) throw new HostError(t.name, 'health', `health script failed (exit ${r.code})`, r.stderr);
  return assessHealth(render.cluster, render.lb, parseFacts(r.stdout), strictMaster);
}
