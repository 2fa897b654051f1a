/** hactl status for people (per cluster: VIPs, then load balancers) and for machines (--json). */
import type { LbView, StatusReport, VipView } from '../status/status.js';
import { bold, dim, green, red, table, yellow } from './style.js';
import { dayCount } from '../util/x509.js';

function vipState(v: VipView, drained: readonly string[]): string {
  const unknown = v.unknown.length ? ` (${v.unknown.join(', ')} not reachable)` : '';
  switch (v.health) {
    case 'ok':
      return green('ok') + unknown;
    case 'failed-over':
      if (drained.includes(v.master)) return `held by ${v.holders[0]}: ${v.master} is drained` + unknown;
      return yellow(`failed over: held by ${v.holders[0]}, not its master ${v.master}`) + unknown;
    case 'down':
      return red('DOWN: no load balancer holds it') + unknown;
    case 'split-brain':
      return red(`SPLIT BRAIN: held by ${v.holders.join(' and ')}`);
    case 'unknown':
      return yellow('unknown: no reachable load balancer holds it') + unknown;
  }
}

const stateColour = (s: string) => (s === 'MASTER' ? green(s) : s === 'BACKUP' ? s : s === '?' ? dim(s) : red(s));
const upDown = (b: boolean | undefined) => (b === undefined ? dim('?') : b ? 'up' : red('down'));

function instanceCell(lb: LbView, vip: string): string {
  const i = lb.instances.find((x) => x.vip === vip);
  if (!i) return '';
  // A state guessed from the address is marked; so is a keepalived state the interfaces contradict.
  const mark = i.source === 'vip' ? '*' : '';
  const odd =
    i.source && i.source !== 'vip' && (i.state === 'MASTER') !== i.holdsVip
      ? i.holdsVip
        ? ' (has VIP)'
        : ' (no VIP)'
      : '';
  return `${stateColour(i.state)}${mark}${odd}`;
}

/** The cluster's nearest certificate expiry: red once expired, yellow within its warning days. */
function certificateLine(e: StatusReport['certificates'][number]): string {
  const when = `${e.notAfter.slice(0, 10)} (${e.daysLeft < 0 ? `${dayCount(-e.daysLeft)} ago` : `in ${dayCount(e.daysLeft)}`})`;
  const line = `nearest certificate expiry: ${e.site} on ${e.lb}, ${e.daysLeft < 0 ? 'EXPIRED ' : ''}${when}`;
  return e.daysLeft < 0 ? red(line) : e.daysLeft < e.warningDays ? yellow(line) : line;
}

export function formatStatus(r: StatusReport): string {
  const out: string[] = [];
  const clusters = [...new Set([...r.vips.map((v) => v.cluster), ...r.lbs.map((l) => l.cluster)])];
  for (const c of clusters) {
    const vips = r.vips.filter((v) => v.cluster === c);
    const lbs = r.lbs.filter((l) => l.cluster === c);
    out.push(bold(`cluster ${c}`));
    out.push(
      table(
        vips.map((v) => [
          v.name,
          v.address,
          v.holders.join(', ') || '-',
          v.master,
          vipState(
            v,
            lbs.filter((l) => l.drained).map((l) => l.name),
          ),
        ]),
        ['vip', 'address', 'holder', 'master', 'state'],
      ),
    );
    out.push('');
    const unreachable = lbs.some((l) => !l.reachable);
    out.push(
      table(
        lbs.map((l) => [
          l.name,
          upDown(l.keepalived),
          upDown(l.nginx),
          ...vips.map((v) => instanceCell(l, v.name) + (l.drained ? ' (drained)' : '')),
          ...(unreachable ? [l.reachable ? '' : red(`unreachable: ${l.error ?? ''}`)] : []),
        ]),
        ['lb', 'keepalived', 'nginx', ...vips.map((v) => v.name), ...(unreachable ? ['problem'] : [])],
      ),
    );
    if (r.lbs.some((l) => l.cluster === c && l.instances.some((i) => i.source === 'vip')))
      out.push(dim('* state guessed from the VIP on the interface (keepalived did not say)'));
    for (const e of r.certificates.filter((x) => x.cluster === c)) out.push(certificateLine(e));
    for (const l of lbs) {
      const failing = l.scripts.filter((x) => x.status !== 'GOOD');
      if (failing.length)
        out.push(red(`${l.name}: keepalived says ${failing.map((x) => `${x.name} is ${x.status}`).join(', ')}`));
    }
    for (const l of lbs) for (const x of l.leftovers) out.push(yellow(`${l.name}: ${x}`));
    for (const l of lbs)
      if (l.drainedBackends?.length)
        out.push(`${l.name}: backend(s) drained in nginx: ${l.drainedBackends.join(', ')} (hactl undrain --backend)`);
    out.push('');
  }
  const bad = r.vips.filter((v) => v.health !== 'ok' && v.health !== 'failed-over').length;
  const at = new Date(r.at)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z');
  out.push(
    bad
      ? red(`${bad} VIP(s) down, split or unknown (${at})`)
      : green(`all ${r.vips.length} VIP(s) held by one load balancer (${at})`),
  );
  return out.join('\n');
}

/**
 * The stable `status --json` document (one per refresh; with --watch, one per line):
 * `ok`, `at` (ISO time), `vips[]` {cluster, name, address, master, holders, health, unknown},
 * `lbs[]` {cluster, name, reachable, error?, keepalived, nginx, leftovers[] (what failover-test left,
 * one sentence each), instances[] {vip, state, source, priority, holdsVip}},
 * `certificates[]` {cluster, site, lb, notAfter, daysLeft, warningDays, fingerprint256}: per cluster with TLS sites, the
 * deployed certificate that expires first.
 */
export function statusJson(r: StatusReport) {
  const bad = r.vips.filter((v) => v.health !== 'ok' && v.health !== 'failed-over');
  return {
    ok: r.ok,
    message: bad.length
      ? bad.map((v) => `${v.cluster}/${v.name} ${v.health}`).join(', ')
      : `every VIP has one holder (${r.vips.length})`,
    at: new Date(r.at).toISOString(),
    vips: r.vips.map((v) => ({
      cluster: v.cluster,
      name: v.name,
      address: v.address,
      master: v.master,
      holders: v.holders,
      health: v.health,
      unknown: v.unknown,
    })),
    lbs: r.lbs.map((l) => ({
      cluster: l.cluster,
      name: l.name,
      reachable: l.reachable,
      ...(l.error ? { error: l.error } : {}),
      keepalived: l.keepalived ?? null,
      nginx: l.nginx ?? null,
      drained: l.drained ?? false,
      drainedBackends: l.drainedBackends ?? [],
      leftovers: l.leftovers,
      scripts: l.scripts,
      instances: l.instances.map((i) => ({
        vip: i.vip,
        state: i.state,
        source: i.source ?? null,
        priority: i.priority ?? null,
        holdsVip: i.holdsVip,
      })),
    })),
    certificates: r.certificates,
  };
}

/** ANSI: cursor home, then the block, then clear what the previous (longer) block left below. */
export function redraw(block: string): string {
  return `\u001b[H${block
    .split('\n')
    .map((l) => `${l}\u001b[K`)
    .join('\n')}\n\u001b[J`;
}
