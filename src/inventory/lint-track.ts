/**
 * Rules for tracked links (track_interface): a weight must be able to move the VIP, like the
 * health check's; one link has one pair of up/down delays (keepalived keeps them per interface,
 * not per VIP); a link is listed once; the VRRP interface itself is tracked already.
 */
import type { Problem } from './problems.js';
import type { Rule } from './lint-rule.js';
import { derivePriorities, trackDocsOf } from './normalize.js';
import { trackVerdict } from './vrrp-math.js';

/** Where a VIP's tracked link is written: its own list, else the cluster's. */
function trackPath(c: Parameters<Rule>[0], vi: number, link: string): (string | number)[] {
  const own = c.vips[vi].track_interface?.findIndex((t) => t.interface === link) ?? -1;
  if (own >= 0) return ['vips', vi, 'track_interface', own];
  return ['track_interface', c.track_interface?.findIndex((t) => t.interface === link) ?? 0];
}

const weights: Rule = (c, at, loc) =>
  c.vips.flatMap((v, vi) => {
    const prio = derivePriorities(c, v);
    return trackDocsOf(c, v).flatMap((t) => {
      const verdict = trackVerdict(t.interface, t.weight ?? 0, v.master, prio);
      if (verdict.ok) return [];
      return [
        loc.problem(
          at(...trackPath(c, vi, t.interface), 'weight'),
          'track-arithmetic',
          `when ${t.interface} goes down on ${v.master}, ${v.name} does not move: ${verdict.explanation}`,
          verdict.fix,
        ),
      ];
    });
  });

const lists: Rule = (c, at, loc) => {
  const out: Problem[] = [];
  const lists: [(string | number)[], { interface: string }[]][] = [
    [['track_interface'], c.track_interface ?? []],
    ...c.vips.map((v, i): [(string | number)[], { interface: string }[]] => [
      ['vips', i, 'track_interface'],
      v.track_interface ?? [],
    ]),
  ];
  const vrrpIfaces = new Set([c.interface, ...c.load_balancers.map((lb) => lb.interface ?? c.interface)]);
  for (const [path, list] of lists)
    list.forEach((t, j) => {
      if (list.findIndex((o) => o.interface === t.interface) < j)
        out.push(
          loc.problem(
            at(...path, j, 'interface'),
            'track-interface',
            `${t.interface} is already tracked in this list`,
            'list each link once',
          ),
        );
      if (vrrpIfaces.has(t.interface))
        out.push(
          loc.problem(
            at(...path, j, 'interface'),
            'track-interface',
            `${t.interface} is a VRRP interface: keepalived already puts the node in FAULT when it goes down`,
            'track the other links (the uplink, the backend-side NIC), not the VRRP interface',
            { severity: 'warning' },
          ),
        );
    });
  return out;
};

/** interface_up_down_delays is one line per link: every VIP tracking it must agree. */
const delays: Rule = (c, at, loc) => {
  const out: Problem[] = [];
  const seen = new Map<string, { key: string; where: string }>();
  c.vips.forEach((v, vi) =>
    trackDocsOf(c, v).forEach((t) => {
      const key = `${t.down_delay ?? 0}/${t.up_delay ?? t.down_delay ?? 0}`;
      const prev = seen.get(t.interface);
      if (!prev) seen.set(t.interface, { key, where: v.name });
      else if (prev.key !== key)
        out.push(
          loc.problem(
            at(...trackPath(c, vi, t.interface)),
            'track-delay',
            `${t.interface} has down/up delays ${key} s here but ${prev.key} s in ${prev.where}; keepalived keeps one pair per link`,
            'give the link the same down_delay and up_delay in every VIP (or set them once in the cluster track_interface)',
          ),
        );
    }),
  );
  return out;
};

export const TRACK_RULES: Rule[] = [lists, weights, delays];
