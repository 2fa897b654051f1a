/**
 * Rules for VIPs with several addresses and for sync groups (issue 18 §3): every address is an
 * address with a prefix; virtual_ipaddress holds one family (keepalived refuses a mix, which is
 * what virtual_ipaddress_excluded is for); no address is used twice; a label goes with its dev.
 * A sync group's VIPs share one master (keepalived's man page: mixed masters re-elect forever)
 * and have no weighted trackers (keepalived ignores a weight inside a group).
 */
import type { ClusterDoc, VipAddressDoc } from './schema.js';
import type { PathSeg, Problem } from './problems.js';
import type { Rule } from './lint-rule.js';
import { cidrProblem } from './grammar-addresses.js';
import { healthCheckOf, trackDocsOf } from './normalize.js';
import { parseCidr } from '../util/ip.js';

type Located = { doc: VipAddressDoc; path: PathSeg[]; excluded: boolean };

function extraAddresses(c: ClusterDoc, i: number): Located[] {
  const v = c.vips[i];
  return [
    ...(v.addresses ?? []).map((doc, j) => ({ doc, path: ['vips', i, 'addresses', j] as PathSeg[], excluded: false })),
    ...(v.excluded_addresses ?? []).map((doc, j) => ({
      doc,
      path: ['vips', i, 'excluded_addresses', j] as PathSeg[],
      excluded: true,
    })),
  ];
}

const addresses: Rule = (c, at, loc) => {
  const out: Problem[] = [];
  const seen = new Map<string, string>();
  c.vips.forEach((v, i) => {
    const own = parseCidr(v.address);
    if (own) seen.set(own.ip, `vips[${i}].address`);
    for (const { doc, path, excluded } of extraAddresses(c, i)) {
      const bad = cidrProblem(doc.address);
      if (bad) {
        out.push(loc.problem(at(...path, 'address'), 'address', `"${doc.address}" ${bad.message}`, bad.fix));
        continue;
      }
      const cidr = parseCidr(doc.address)!;
      const prev = seen.get(cidr.ip);
      if (prev)
        out.push(
          loc.problem(
            at(...path, 'address'),
            'address',
            `${cidr.ip} is already used at ${prev}`,
            'give every address to one VIP, once',
          ),
        );
      seen.set(cidr.ip, path.map(String).join('.'));
      if (!excluded && own && cidr.family !== own.family)
        out.push(
          loc.problem(
            at(...path, 'address'),
            'address-family',
            `${doc.address} is IPv${cidr.family} but ${v.address} is IPv${own.family}: keepalived takes one family in virtual_ipaddress (adverts carry one)`,
            'move it to excluded_addresses: (virtual_ipaddress_excluded), which may mix families',
          ),
        );
      if (doc.label && cidr.family === 6)
        out.push(
          loc.problem(at(...path, 'label'), 'label', 'keepalived ignores a label on an IPv6 address', 'remove label:'),
        );
      const dev = doc.dev ?? v.dev;
      if (doc.label && dev && !doc.label.startsWith(`${dev}:`))
        out.push(
          loc.problem(
            at(...path, 'label'),
            'label',
            `label ${doc.label} must start with the interface the address is on (${dev})`,
            `use ${dev}:${doc.label.split(':')[1]}`,
          ),
        );
    }
  });
  return out;
};

const syncGroups: Rule = (c, at, loc) => {
  const out: Problem[] = [];
  const inGroup = new Map<string, string>();
  const hc = healthCheckOf(c);
  (c.sync_groups ?? []).forEach((g, gi) => {
    const masters = new Map<string, string[]>();
    g.vips.forEach((name, j) => {
      const vip = c.vips.find((v) => v.name === name);
      const here = at('sync_groups', gi, 'vips', j);
      if (!vip) {
        out.push(
          loc.problem(
            here,
            'reference',
            `VIP "${name}" does not exist in cluster ${c.name}`,
            `use one of: ${c.vips.map((v) => v.name).join(', ')}`,
          ),
        );
        return;
      }
      const prev = inGroup.get(name);
      if (prev)
        out.push(
          loc.problem(here, 'sync-group', `${name} is already in sync group ${prev}`, 'put each VIP in one group'),
        );
      inGroup.set(name, g.name);
      masters.set(vip.master, [...(masters.get(vip.master) ?? []), name]);
      const weighted = trackDocsOf(c, vip).filter((t) => (t.weight ?? 0) !== 0);
      if (weighted.length > 0)
        out.push(
          loc.problem(
            here,
            'sync-group',
            `${name} tracks ${weighted.map((t) => `${t.interface} with weight ${t.weight}`).join(', ')}, but keepalived ignores weighted trackers of a sync group's instances`,
            'leave weight out of those track_interface entries (FAULT), or take the VIP out of the group',
          ),
        );
    });
    if (masters.size > 1)
      out.push(
        loc.problem(
          at('sync_groups', gi, 'vips'),
          'sync-group',
          `sync group ${g.name} has VIPs with different masters (${[...masters].map(([m, vs]) => `${vs.join(', ')} on ${m}`).join('; ')}): keepalived's instances would re-elect constantly`,
          'group only VIPs with the same master (two groups for dual-master)',
        ),
      );
    if (hc.mode !== 'none' && hc.weight !== 0)
      out.push(
        loc.problem(
          at('health_check', 'weight'),
          'sync-group',
          `the nginx health check has weight ${hc.weight}, which keepalived ignores for the instances of sync group ${g.name}: a dead nginx would not move them`,
          'use weight: 0 (FAULT, the default) with sync groups',
        ),
      );
  });
  return out;
};

export const VIP_ADDRESS_RULES: Rule[] = [addresses, syncGroups];
