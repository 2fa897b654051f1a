/**
 * Rules for inventory strings that land in config files, where one field's pattern cannot say
 * enough: an address must really be an IP when it looks like one, a label must match the
 * interface it is written with, an `extra` item must read as one nginx directive, a health check
 * needs a literal Host, keepalived reads script timers in milliseconds.
 */
import { isIP } from 'node:net';
import type { ClusterDoc } from './schema.js';
import type { Locator, PathSeg, Problem } from './problems.js';
import type { Rule } from './lint-rule.js';
import { cidrProblem, ipShapeProblem } from './grammar-addresses.js';
import { directiveProblem } from './nginx-directive.js';
import { healthHostOf } from './normalize.js';
import { isNetworkOrBroadcast, parseCidr } from '../util/ip.js';

const vipAddresses: Rule = (c, at, loc) =>
  c.vips.flatMap((v, i) => {
    const bad = cidrProblem(v.address);
    if (bad) return [loc.problem(at('vips', i, 'address'), 'address', `"${v.address}" ${bad.message}`, bad.fix)];
    const cidr = parseCidr(v.address);
    if (!cidr || !isNetworkOrBroadcast(cidr)) return [];
    return [
      loc.problem(
        at('vips', i, 'address'),
        'address',
        `${v.address} is the network or broadcast address of its subnet`,
        'pick a host address inside the subnet',
      ),
    ];
  });

/** SSH and backend hosts passed the pattern; one shaped like an IP must be a valid IP. */
const hostAddresses: Rule = (c, at, loc) => {
  const check = (address: string, path: PathSeg[]) => {
    const bad = ipShapeProblem(address);
    return bad ? [loc.problem(path, 'address', `"${address}" ${bad.message}`, bad.fix)] : [];
  };
  return [
    ...c.load_balancers.flatMap((lb, i) => check(lb.address, at('load_balancers', i, 'address'))),
    ...c.backends.flatMap((b, i) => check(b.address, at('backends', i, 'address'))),
  ];
};

const vrrpAddresses: Rule = (c, at, loc) =>
  c.load_balancers.flatMap((lb, i) => {
    if (lb.vrrp_address === undefined) return [];
    const [ip, prefix] = lb.vrrp_address.split('/');
    const family = isIP(ip);
    const max = family === 6 ? 128 : 32;
    if (family !== 0 && (prefix === undefined || Number(prefix) <= max)) return [];
    return [
      loc.problem(
        at('load_balancers', i, 'vrrp_address'),
        'address',
        family === 0
          ? `"${lb.vrrp_address}" is not an IP address`
          : `"${lb.vrrp_address}" has a prefix longer than /${max}`,
        "use the node's IPv4/IPv6 address on the VRRP interface, e.g. 10.0.0.11 or 10.0.0.11/24",
      ),
    ];
  });

/** keepalived writes `dev <interface> label <label>` on every node, with that node's interface. */
function labelProblems(c: ClusterDoc, i: number, at: (...p: PathSeg[]) => PathSeg[], loc: Locator): Problem[] {
  const v = c.vips[i];
  if (!v.label) return [];
  const path = at('vips', i, 'label');
  if (parseCidr(v.address)?.family === 6)
    return [loc.problem(path, 'label', 'keepalived ignores a label on an IPv6 address', 'remove label: from this VIP')];
  const dev = v.label.split(':')[0];
  const others = c.load_balancers.filter((lb) => (lb.interface ?? c.interface) !== dev);
  if (others.length === 0) return [];
  const ifaces = [...new Set(others.map((lb) => lb.interface ?? c.interface))];
  return [
    loc.problem(
      path,
      'label',
      `label ${v.label} must start with the interface it is on: ${others.map((lb) => `${lb.name} uses ${lb.interface ?? c.interface}`).join(', ')} (iproute2 refuses such a label, and tools group aliases by <interface>:)`,
      ifaces.length === 1
        ? `use ${ifaces[0]}:${v.label.split(':')[1]}`
        : 'give these nodes one interface name, or drop the label',
    ),
  ];
}

const labels: Rule = (c, at, loc) => c.vips.flatMap((_, i) => labelProblems(c, i, at, loc));

/**
 * keepalived reads vrrp_script interval and timeout as whole seconds (2.1.5 to 2.3.3; a fraction
 * is refused by keepalived -t and ignored by a running keepalived). Below one second the check
 * probes within its run (vrrp-math checkRuns), timed in the hundredths of /proc/uptime.
 */
const scriptTimers: Rule = (c, at, loc) => {
  const hc = c.health_check;
  if (!hc) return [];
  const interval = hc.interval ?? 1;
  const hundredths = (v: number) => Math.abs(Math.round(v * 100) - v * 100) < 1e-6;
  const problem = (k: 'interval' | 'timeout' | 'alive_interval', reason: string, fix: string) =>
    loc.problem(at('health_check', k), 'health-check', reason, fix);
  const out = [];
  if (hc.interval !== undefined && hc.interval >= 1 && !Number.isInteger(hc.interval))
    out.push(
      problem(
        'interval',
        `interval ${hc.interval} is not whole seconds; keepalived reads a vrrp_script interval as whole seconds`,
        `use ${Math.round(hc.interval)}, or an interval below 1 (the check then probes within each run)`,
      ),
    );
  if (
    hc.interval !== undefined &&
    hc.interval < 1 &&
    (hc.interval < 0.05 || hc.interval > 0.9 || !hundredths(hc.interval))
  )
    out.push(
      problem(
        'interval',
        `interval ${hc.interval}: a sub-second check probes every 0.05 to 0.9 s, in hundredths`,
        'use e.g. 0.1',
      ),
    );
  if (hc.timeout !== undefined && interval >= 1 && !Number.isInteger(hc.timeout))
    out.push(
      problem(
        'timeout',
        `timeout ${hc.timeout} is not whole seconds; keepalived reads a vrrp_script timeout as whole seconds`,
        `use ${Math.max(1, Math.round(hc.timeout))}`,
      ),
    );
  if (hc.timeout !== undefined && interval < 1 && (hc.timeout > 0.5 || hc.timeout < 0.01 || !hundredths(hc.timeout)))
    out.push(
      problem(
        'timeout',
        `timeout ${hc.timeout}: with a sub-second interval each probe's timeout is 0.01 to 0.5 s, in hundredths`,
        'use e.g. 0.2',
      ),
    );
  out.push(...aliveProblems(hc, problem, hundredths));
  return out;
};

/** alive_interval: in range, and only where it takes effect (the HTTP script in FAULT mode). */
function aliveProblems(
  hc: NonNullable<ClusterDoc['health_check']>,
  problem: (k: 'alive_interval', reason: string, fix: string) => Problem,
  hundredths: (v: number) => boolean,
): Problem[] {
  const a = hc.alive_interval;
  if (a === undefined || a === 0) return [];
  if (a < 0.05 || !hundredths(a))
    return [
      problem(
        'alive_interval',
        `alive_interval ${a}: the alive check connects every 0.05 to 0.9 s, in hundredths`,
        'use e.g. 0.1, or 0 for no alive check',
      ),
    ];
  const mode = hc.mode ?? 'script';
  if (mode !== 'script' && mode !== 'both')
    return [
      problem(
        'alive_interval',
        `alive_interval goes with the HTTP check, and mode ${mode} has none`,
        'use mode: script or both, or leave alive_interval out',
      ),
    ];
  if ((hc.weight ?? 0) !== 0)
    return [
      problem(
        'alive_interval',
        `alive_interval with weight ${hc.weight}: a dead nginx would count against the priority twice (both checks fail), which the failover arithmetic does not assume`,
        'leave alive_interval out (no alive check with a weight), or use weight: 0 (FAULT on failure, recommended)',
      ),
    ];
  return [];
}

const sites: Rule = (c, at, loc) =>
  c.sites.flatMap((s, i) => {
    const out = (s.extra ?? []).flatMap((d, j) => {
      const bad = directiveProblem(d);
      if (!bad) return [];
      const reason = `${JSON.stringify(d)} is not a single nginx directive: ${bad.message}`;
      return [loc.problem(at('sites', i, 'extra', j), 'extra-directive', reason, bad.fix)];
    });
    if (s.health_host === undefined && healthHostOf(s) === undefined)
      out.push(
        loc.problem(
          at('sites', i, 'server_names'),
          'health-host',
          'no server name is a plain host name ($hostname, regular expressions and www.example.* are not), so hactl has no Host header for its checks',
          'set health_host: to a name this site answers to, e.g. www.example.com',
        ),
      );
    return out;
  });

export const INPUT_RULES: Rule[] = [vipAddresses, hostAddresses, vrrpAddresses, labels, scriptTimers, sites];
