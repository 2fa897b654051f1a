/**
 * Cross-field and cross-host rules that a schema cannot express. Each rule returns Problems
 * that say what is wrong, where, and how to fix it. Runs only on schema-valid documents.
 */
import type { InventoryDoc } from './schema.js';
import type { Locator, PathSeg, Problem } from './problems.js';
import { derivePriorities, healthCheckOf, vipSettings, vrrpAddressOf } from './normalize.js';
import { contains, ipFamily, networkKey, parseCidr } from '../util/ip.js';
import { failoverVerdict } from './vrrp-math.js';
import type { LintOptions, Rule } from './lint-rule.js';
import { INPUT_RULES } from './lint-input.js';
import { notifyHasHook } from './lint-hooks.js';
import { passwordCharsProblem } from './grammar-keepalived.js';
import { TLS_RULES } from './lint-tls.js';
import { TRACK_RULES } from './lint-track.js';
import { VIP_ADDRESS_RULES } from './lint-vip-addresses.js';

export type { LintOptions };

function duplicates<T>(items: T[], key: (t: T) => string): [number, number][] {
  const seen = new Map<string, number>();
  const out: [number, number][] = [];
  items.forEach((it, i) => {
    const k = key(it);
    if (seen.has(k)) out.push([seen.get(k)!, i]);
    else seen.set(k, i);
  });
  return out;
}

const uniqueNames: Rule = (c, at, loc) => {
  const out: Problem[] = [];
  for (const [list, what] of [
    ['load_balancers', 'load balancer'],
    ['vips', 'VIP'],
    ['backends', 'backend'],
    ['sites', 'site'],
  ] as const) {
    for (const [first, dup] of duplicates(c[list] as { name: string }[], (x) => x.name)) {
      out.push(
        loc.problem(
          at(list, dup, 'name'),
          'unique-name',
          `${what} name "${(c[list] as { name: string }[])[dup].name}" is already used at ${list}[${first}]`,
          'give each one a distinct name',
        ),
      );
    }
  }
  // Sites may share an upstream (two sites proxying to one backend pool) only with the same backends.
  for (const [first, dup] of duplicates(c.sites, (s) => s.upstream ?? s.name))
    if (c.sites[first].backends.join(',') !== c.sites[dup].backends.join(','))
      out.push(
        loc.problem(
          at('sites', dup, 'upstream'),
          'unique-name',
          `upstream "${c.sites[dup].upstream ?? c.sites[dup].name}" is also used by sites[${first}] with different backends`,
          'give this site its own upstream: name, or the same backends',
        ),
      );
  return out;
};

const references: Rule = (c, at, loc) => {
  const out: Problem[] = [];
  const lbs = new Set(c.load_balancers.map((l) => l.name));
  const vips = new Set(c.vips.map((v) => v.name));
  const backends = new Set(c.backends.map((b) => b.name));
  c.vips.forEach((v, i) => {
    if (!lbs.has(v.master))
      out.push(
        loc.problem(
          at('vips', i, 'master'),
          'reference',
          `master "${v.master}" is not a load balancer of cluster ${c.name}`,
          `use one of: ${[...lbs].join(', ')}`,
        ),
      );
    for (const name of Object.keys(v.priorities ?? {}))
      if (!lbs.has(name))
        out.push(
          loc.problem(
            at('vips', i, 'priorities', name),
            'reference',
            `"${name}" is not a load balancer of cluster ${c.name}`,
            `use one of: ${[...lbs].join(', ')}`,
            { key: true },
          ),
        );
  });
  c.sites.forEach((s, i) => {
    s.vips.forEach((n, j) => {
      if (!vips.has(n))
        out.push(
          loc.problem(
            at('sites', i, 'vips', j),
            'reference',
            `VIP "${n}" does not exist in cluster ${c.name}`,
            `use one of: ${[...vips].join(', ')}`,
          ),
        );
    });
    s.backends.forEach((n, j) => {
      if (!backends.has(n))
        out.push(
          loc.problem(
            at('sites', i, 'backends', j),
            'reference',
            `backend "${n}" does not exist in cluster ${c.name}`,
            `use one of: ${[...backends].join(', ')}`,
          ),
        );
    });
  });
  return out;
};

const vrrpSettings: Rule = (c, at, loc, o) => {
  const out: Problem[] = [];
  c.vips.forEach((v, i) => {
    const s = vipSettings(c, v);
    const where = (k: string) =>
      v[k as keyof typeof v] !== undefined ? at('vips', i, k) : c.vrrp && k in c.vrrp ? at('vrrp', k) : at('vips', i);
    if (s.advert_int < 1 && s.vrrp_version !== 3)
      out.push(
        loc.problem(
          where('advert_int'),
          'advert-int',
          `advert_int ${s.advert_int} is below 1 second, which VRRPv2 cannot express`,
          'set vrrp_version: 3, or advert_int: 1 or more',
        ),
      );
    if (s.vrrp_version === 2 && !Number.isInteger(s.advert_int))
      out.push(
        loc.problem(
          where('advert_int'),
          'advert-int',
          `advert_int ${s.advert_int} must be whole seconds with VRRPv2`,
          'use a whole number, or vrrp_version: 3',
        ),
      );
    if (s.vrrp_version === 3 && Math.round(s.advert_int * 100) !== s.advert_int * 100)
      out.push(
        loc.problem(
          where('advert_int'),
          'advert-int',
          `advert_int ${s.advert_int} is finer than VRRPv3's centiseconds`,
          'round to 0.01 s',
        ),
      );
    if (parseCidr(v.address)?.family === 6 && s.vrrp_version !== 3)
      out.push(
        loc.problem(
          where('vrrp_version'),
          'ipv6-vrrp',
          `${v.address} is an IPv6 VIP: VRRPv2 carries IPv4 only (RFC 3768), keepalived adverts IPv6 with version 3`,
          'set vrrp_version: 3 for this VIP (and no auth:)',
        ),
      );
    if (s.auth && s.vrrp_version === 3)
      out.push(
        loc.problem(
          where('auth'),
          'auth-v3',
          `VRRPv3 has no authentication (RFC 5798); keepalived ignores or rejects it${c.vrrp?.profile && v.vrrp_version === undefined && c.vrrp.vrrp_version === undefined ? ` (vrrp.profile ${c.vrrp.profile} is VRRPv3)` : ''}`,
          c.vrrp?.profile
            ? 'remove auth: (the profile has none), or leave out vrrp.profile'
            : 'remove auth:, or use vrrp_version: 2',
        ),
      );
    if (s.auth) {
      const a = s.auth;
      const authPath = v.auth ? at('vips', i, 'auth') : at('vrrp', 'auth');
      if ((a.pass === undefined) === (a.pass_env === undefined))
        out.push(
          loc.problem(
            authPath,
            'auth',
            'give exactly one of pass or pass_env',
            'prefer pass_env: HACTL_VRRP_PASS and export the variable',
          ),
        );
      const value = a.pass ?? (a.pass_env ? o.env[a.pass_env] : undefined);
      if (a.pass_env && value === undefined)
        out.push(
          loc.problem(
            [...authPath, 'pass_env'],
            'auth-env',
            `environment variable ${a.pass_env} is not set`,
            `export ${a.pass_env}=<password of at most 8 characters>`,
            { severity: o.requireSecrets ? 'error' : 'warning' },
          ),
        );
      if (value !== undefined && value.length > 8)
        out.push(
          loc.problem(
            [...authPath, a.pass !== undefined ? 'pass' : 'pass_env'],
            'auth-length',
            `the VRRP password is ${value.length} characters; keepalived silently uses only the first 8, so nodes configured by hand may disagree`,
            'use a password of at most 8 characters',
          ),
        );
      const chars = value === undefined ? undefined : passwordCharsProblem(value);
      if (chars)
        out.push(
          loc.problem(
            [...authPath, a.pass !== undefined ? 'pass' : 'pass_env'],
            'auth-chars',
            chars,
            'choose a password of letters, digits and punctuation other than # ! " \\ { } (hactl writes auth_pass unquoted)',
          ),
        );
    }
    if (!s.preempt && v.initial_state === 'MASTER')
      out.push(
        loc.problem(
          at('vips', i, 'initial_state'),
          'nopreempt-state',
          'preempt: false (nopreempt) only works when every node starts as BACKUP',
          'remove initial_state, or set it to BACKUP',
        ),
      );
    if (s.preempt_delay !== undefined && !s.preempt)
      out.push(
        loc.problem(
          where('preempt_delay'),
          'preempt-delay',
          'preempt_delay has no effect with preempt: false',
          'remove one of them',
          { severity: 'warning' },
        ),
      );
    if (s.unicast)
      c.load_balancers.forEach((lb, j) => {
        if (!vrrpAddressOf(lb))
          out.push(
            loc.problem(
              at('load_balancers', j),
              'unicast-address',
              `unicast VRRP needs ${lb.name}'s IP on the VRRP interface, but its address is a name`,
              'set vrrp_address: to its IP on the VRRP interface',
            ),
          );
      });
  });
  return out;
};

const priorities: Rule = (c, at, loc) => {
  const out: Problem[] = [];
  c.vips.forEach((v, i) => {
    const prio = derivePriorities(c, v);
    const byValue = new Map<number, string[]>();
    for (const [lb, p] of prio) byValue.set(p, [...(byValue.get(p) ?? []), lb]);
    for (const [p, lbs] of byValue)
      if (lbs.length > 1)
        out.push(
          loc.problem(
            at('vips', i, 'priorities'),
            'priority-distinct',
            `${lbs.join(' and ')} have the same priority ${p} for ${v.name}; the election would fall to the highest IP address`,
            'give every load balancer a distinct priority',
          ),
        );
    const masterPrio = prio.get(v.master);
    const higher = [...prio].filter(([lb, p]) => lb !== v.master && masterPrio !== undefined && p >= masterPrio);
    if (higher.length > 0)
      out.push(
        loc.problem(
          at('vips', i, 'priorities'),
          'priority-master',
          `master ${v.master} (priority ${masterPrio}) is not the highest: ${higher.map(([l, p]) => `${l}=${p}`).join(', ')}`,
          `raise ${v.master}'s priority above the others or change master:`,
        ),
      );
  });
  return out;
};

const vipSubnet: Rule = (c, at, loc) => {
  const out: Problem[] = [];
  c.vips.forEach((v, i) => {
    const cidr = parseCidr(v.address);
    if (!cidr) return;
    // A /32 (/128) VIP names no subnet: keepalived adds it to the interface whatever that
    // interface's own subnet is (a VIP routed to this segment), so there is nothing to compare.
    const hostRoute = cidr.prefix === (cidr.family === 4 ? 32 : 128);
    c.load_balancers.forEach((lb) => {
      const own = vrrpAddressOf(lb);
      // On another interface (dev:) the VIP's subnet is that interface's, not the VRRP one's.
      const elsewhere = v.dev !== undefined && v.dev !== (lb.interface ?? c.interface);
      if (own && !hostRoute && !elsewhere && ipFamily(own) === cidr.family && !contains(cidr, own))
        out.push(
          loc.problem(
            at('vips', i, 'address'),
            'vip-subnet',
            `the subnet of ${v.address} does not contain ${lb.name}'s address ${own} on ${lb.interface ?? c.interface}`,
            `choose a VIP inside ${own}'s subnet, write it as /${cidr.family === 4 ? 32 : 128} if it is routed to this segment, or set ${lb.name}.vrrp_address if ${own} is only its SSH address`,
          ),
        );
      if (own && own === cidr.ip)
        out.push(
          loc.problem(
            at('vips', i, 'address'),
            'vip-subnet',
            `${v.address} is ${lb.name}'s own address`,
            'a VIP must be an address no host owns',
          ),
        );
    });
  });
  return out;
};

const failover: Rule = (c, at, loc) => {
  const out: Problem[] = [];
  const hc = healthCheckOf(c);
  if (hc.mode === 'none') {
    out.push(
      loc.problem(
        c.health_check ? at('health_check', 'mode') : at(),
        'failover-arithmetic',
        'no nginx health check: when nginx dies the VIP stays on the dead node',
        'use mode: script (the default)',
        { severity: 'warning' },
      ),
    );
    return out;
  }
  // With a sub-second interval the probes run one after another within a run: a longer timeout only spaces them.
  if (hc.mode !== 'process' && hc.interval >= 1 && hc.timeout > hc.interval)
    out.push(
      loc.problem(
        at('health_check', 'timeout'),
        'health-check',
        `timeout ${hc.timeout}s is longer than interval ${hc.interval}s`,
        'keep timeout at or below interval',
        { severity: 'warning' },
      ),
    );
  c.vips.forEach((v, i) => {
    const verdict = failoverVerdict(hc, v.master, derivePriorities(c, v));
    if (!verdict.ok)
      out.push(
        loc.problem(
          c.health_check?.weight !== undefined ? at('health_check', 'weight') : at('vips', i),
          'failover-arithmetic',
          `when nginx dies on ${v.master}, ${v.name} does not move: ${verdict.explanation}`,
          verdict.fix,
        ),
      );
  });
  return out;
};

const sites: Rule = (c, at, loc) => {
  const out: Problem[] = [];
  const seen = new Map<string, number>();
  c.sites.forEach((s, i) => {
    const port = s.port ?? (s.tls ? 443 : 80);
    for (const vip of s.vips)
      for (const name of s.server_names) {
        const key = `${vip}:${port}:${name.toLowerCase()}`;
        if (seen.has(key))
          out.push(
            loc.problem(
              at('sites', i, 'server_names'),
              'site-conflict',
              `${name} on ${vip}:${port} is already served by sites[${seen.get(key)}]`,
              'serve each name once per VIP and port',
            ),
          );
        else seen.set(key, i);
      }
    if (port === (c.nginx_status_port ?? 8099))
      out.push(
        loc.problem(
          at('sites', i, 'port'),
          'site-conflict',
          `port ${port} is the nginx status port`,
          'change nginx_status_port or the site port',
        ),
      );
  });
  return out;
};

const RULES: Rule[] = [
  uniqueNames,
  ...INPUT_RULES,
  references,
  vrrpSettings,
  priorities,
  vipSubnet,
  failover,
  sites,
  ...TLS_RULES,
  notifyHasHook,
  ...TRACK_RULES,
  ...VIP_ADDRESS_RULES,
];

/** VRIDs must be unique per segment (interface + subnet) across every cluster. */
function vridsUnique(doc: InventoryDoc, loc: Locator): Problem[] {
  const out: Problem[] = [];
  const seen = new Map<string, PathSeg[]>();
  doc.clusters.forEach((c, ci) =>
    c.vips.forEach((v, vi) => {
      const cidr = parseCidr(v.address);
      if (!cidr) return;
      const key = `${networkKey(cidr)}#${v.vrid}`;
      const here: PathSeg[] = ['clusters', ci, 'vips', vi, 'vrid'];
      const prev = seen.get(key);
      if (prev)
        out.push(
          loc.problem(
            here,
            'vrid-unique',
            `virtual_router_id ${v.vrid} is already used on this segment by ${prev.slice(0, 4).map(String).join('.')} (${v.address}); two VRRP instances with one VRID on a segment fight over it`,
            'pick an unused vrid (1-255) for this VIP',
          ),
        );
      else seen.set(key, here);
    }),
  );
  return out;
}

export function lint(doc: InventoryDoc, loc: Locator, opts: LintOptions): Problem[] {
  const out: Problem[] = [];
  const names = new Map<string, number>();
  doc.clusters.forEach((c, ci) => {
    if (names.has(c.name))
      out.push(
        loc.problem(
          ['clusters', ci, 'name'],
          'unique-name',
          `cluster name "${c.name}" is already used by clusters[${names.get(c.name)}]`,
          'give each cluster a distinct name',
        ),
      );
    names.set(c.name, ci);
    const at = (...p: PathSeg[]) => ['clusters', ci, ...p];
    for (const rule of RULES) out.push(...rule(c, at, loc, opts));
  });
  const lbNames = new Map<string, string>();
  doc.clusters.forEach((c, ci) =>
    c.load_balancers.forEach((lb, li) => {
      const prev = lbNames.get(lb.name);
      if (prev && prev !== c.name)
        out.push(
          loc.problem(
            ['clusters', ci, 'load_balancers', li, 'name'],
            'unique-name',
            `load balancer "${lb.name}" is also in cluster ${prev}; hactl manages one keepalived.conf per host`,
            'put the host in one cluster, with all its VIPs',
          ),
        );
      lbNames.set(lb.name, c.name);
    }),
  );
  out.push(...vridsUnique(doc, loc));
  return out;
}
