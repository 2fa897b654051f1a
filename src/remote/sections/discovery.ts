/**
 * The network facts `hactl init` reads from a load balancer, as sections of one exec:
 * interfaces and addresses, ARP neighbours, VRIDs in the host's keepalived configs, and VRRP
 * adverts heard for a few seconds.
 *
 * VRIDs already used on the segment come from two places:
 *  - keepalived configs on the host itself (`virtual_router_id` in /etc/keepalived), and
 *  - VRRP adverts heard for a few seconds. Listening needs no extra package: python3 opens an
 *    AF_PACKET socket (every IPv4 frame on every interface) and asks each interface for all
 *    multicast (PACKET_MR_ALLMULTI, dropped with the socket): a node that runs no keepalived
 *    has joined no VRRP group, and a NIC that filters multicast in hardware would otherwise
 *    never pass 224.0.0.18 up. It prints one line per (interface, source, VRID); where python3 is missing, tcpdump is
 *    used if installed; otherwise the report says nothing was listened to. Both are bounded by
 *    `timeout`, so a quiet segment costs the listening time and no more.
 */
import { cmd, hostPath, raw, script } from '../script.js';
import { section, type Section } from '../section.js';

export interface IfaceAddr {
  ip: string;
  prefix: number;
  secondary: boolean;
  scope: string;
}

export interface Iface {
  name: string;
  up: boolean;
  loopback: boolean;
  addrs: IfaceAddr[];
}

export interface SeenVrid {
  vrid: number;
  source: 'advert' | 'keepalived.conf';
  iface?: string;
  /** Sender of the advert. */
  from?: string;
  priority?: number;
  /** Addresses carried in the advert (the VIPs of that instance). */
  vips?: string[];
}

export interface ListenReport {
  method: 'python3' | 'tcpdump' | 'none';
  ok: boolean;
  seconds: number;
}

export interface DiscoveryFacts {
  interfaces: Iface[];
  /** IPv4 neighbours that answered ARP recently (addresses in use on the segment). */
  neighbours: { ip: string; dev: string }[];
  vrids: SeenVrid[];
  listen: ListenReport;
}

const LISTEN_PY = `
import socket, struct, sys, time
end = time.time() + float(sys.argv[1])
s = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(0x0800))
for i, n in socket.if_nameindex():
    try:
        s.setsockopt(263, 1, struct.pack('iHH8s', i, 2, 0, b''))
    except OSError:
        pass
seen = set()
while True:
    left = end - time.time()
    if left <= 0:
        break
    s.settimeout(left)
    try:
        d, a = s.recvfrom(4096)
    except OSError:
        break
    if len(d) < 28 or d[9] != 112:
        continue
    h = (d[0] & 15) * 4
    v = d[h:]
    if len(v) < 8:
        continue
    src = '.'.join(map(str, d[12:16]))
    key = (a[0], src, v[1])
    if key in seen:
        continue
    seen.add(key)
    ips = [ '.'.join(map(str, v[8 + 4 * i:12 + 4 * i])) for i in range(v[3]) if len(v) >= 12 + 4 * i ]
    print('vrrp', a[0], src, v[1], v[2], ','.join(ips) or '-', flush=True)
`.trim();

/** `ip -j -4 addr show`, or its one-line form where iproute2 has no JSON. */
export const addrs4Section: Section<Iface[]> = section(
  'addrs4',
  raw("if ip -j -4 addr show 2>/dev/null; then :; else echo '#oneline'; ip -o -4 addr show; fi"),
  (lines) => {
    if (lines[0] === '#oneline') return parseIpAddrOneline(lines.slice(1).join('\n'));
    const text = lines.join('\n').trim();
    if (!text) throw new Error('the host printed no addresses (is iproute2 installed?)');
    return parseIpAddrJson(text);
  },
);

/** IPv4 neighbours; old iproute2 without -j gives none (neighbours are only a hint). */
export const neighSection: Section<{ ip: string; dev: string }[]> = section(
  'neigh',
  raw('ip -j -4 neigh show 2>/dev/null || true'),
  (lines) => {
    try {
      return parseNeighJson(lines.join('\n'));
    } catch {
      return [];
    }
  },
);

/** virtual_router_id lines of the keepalived configs already on the host. */
export const confVridsSection: Section<SeenVrid[]> = section(
  'conf-vrids',
  cmd`for cv_f in ${hostPath('/etc/keepalived/keepalived.conf')} ${hostPath('/etc/keepalived/conf.d')}/*.conf; do [ -r "$cv_f" ] && grep -hE '^[[:space:]]*virtual_router_id[[:space:]]' "$cv_f"; done 2>/dev/null; true`,
  parseKeepalivedVrids,
);

export interface Heard {
  listen: ListenReport;
  vrids: SeenVrid[];
}

/** Listens for VRRP adverts for a bounded time: "method python3 3", advert lines, "rc 0". */
export function advertsSection(listenSeconds = 3): Section<Heard> {
  const secs = String(listenSeconds);
  const hard = String(Math.ceil(listenSeconds) + 5); // python3 may start slowly (pyenv shims); its own deadline is what counts
  return section(
    'adverts',
    script(
      cmd`if command -v python3 >/dev/null 2>&1; then echo ${`method python3 ${secs}`}; timeout ${hard} python3 -c ${LISTEN_PY} ${secs} 2>/dev/null; echo "rc $?";`,
      cmd`elif command -v tcpdump >/dev/null 2>&1; then echo ${`method tcpdump ${secs}`}; timeout ${secs} tcpdump -l -nn -p -i any ${'ip proto 112'} 2>/dev/null; ad_rc=$?; [ $ad_rc = 124 ] && ad_rc=0; echo "rc $ad_rc";`,
      raw('else echo method none 0; fi'),
    ),
    (lines) => {
      const method = /^method (\S+) (\S+)$/.exec(lines.find((l) => l.startsWith('method ')) ?? '');
      const rc = lines.find((l) => /^rc \d+$/.test(l))?.slice(3);
      const m = (method?.[1] ?? 'none') as ListenReport['method'];
      const known = m === 'python3' || m === 'tcpdump';
      return {
        listen: { method: known ? m : 'none', ok: known && rc === '0', seconds: Number(method?.[2] ?? 0) || 0 },
        vrids: parseAdverts(lines.filter((l) => !l.startsWith('method ') && !/^rc \d+$/.test(l))),
      };
    },
  );
}

/** Every discovery section, for one exec. */
export function discoverySections(listenSeconds = 3) {
  return [addrs4Section, neighSection, confVridsSection, advertsSection(listenSeconds)] as const;
}

export function discoveryFacts([interfaces, neighbours, conf, heard]: readonly [
  Iface[],
  { ip: string; dev: string }[],
  SeenVrid[],
  Heard,
]): DiscoveryFacts {
  return { interfaces, neighbours, vrids: [...conf, ...heard.vrids], listen: heard.listen };
}

interface IpJsonLink {
  ifname?: string;
  flags?: string[];
  operstate?: string;
  addr_info?: { family?: string; local?: string; prefixlen?: number; scope?: string; secondary?: boolean }[];
}

/** `ip -j -4 addr show` → interfaces with their IPv4 addresses. */
export function parseIpAddrJson(text: string): Iface[] {
  const links = JSON.parse(text) as IpJsonLink[];
  if (!Array.isArray(links)) throw new Error('ip -j addr: expected a JSON array');
  return links
    .filter((l) => typeof l.ifname === 'string')
    .map((l) => ({
      name: l.ifname!,
      up: (l.flags ?? []).includes('UP'),
      loopback: (l.flags ?? []).includes('LOOPBACK'),
      addrs: (l.addr_info ?? [])
        .filter(
          (a) => (a.family ?? 'inet') === 'inet' && typeof a.local === 'string' && typeof a.prefixlen === 'number',
        )
        .map((a) => ({
          ip: a.local!,
          prefix: a.prefixlen!,
          secondary: a.secondary === true,
          scope: a.scope ?? 'global',
        })),
    }));
}

/** `ip -o -4 addr show` (iproute2 without JSON) → interfaces. Link state is not in this output: assumed up. */
export function parseIpAddrOneline(text: string): Iface[] {
  const byName = new Map<string, Iface>();
  for (const line of text.split('\n')) {
    const m = /^\d+:\s+(\S+?)(?:@\S+)?\s+inet\s+([\d.]+)\/(\d+)(.*)$/.exec(line.trim());
    if (!m) continue;
    const [, name, ip, prefix, rest] = m;
    const iface = byName.get(name) ?? { name, up: true, loopback: name === 'lo', addrs: [] };
    iface.addrs.push({
      ip,
      prefix: Number(prefix),
      secondary: /\bsecondary\b/.test(rest),
      scope: /\bscope (\S+)/.exec(rest)?.[1] ?? 'global',
    });
    byName.set(name, iface);
  }
  return [...byName.values()];
}

/** `ip -j -4 neigh show` → neighbours that are (or recently were) reachable. */
export function parseNeighJson(text: string): { ip: string; dev: string }[] {
  if (text.trim() === '') return [];
  const rows = JSON.parse(text) as { dst?: string; dev?: string; state?: string[] }[];
  return rows
    .filter((r) => typeof r.dst === 'string' && !(r.state ?? []).some((s) => s === 'FAILED' || s === 'INCOMPLETE'))
    .map((r) => ({ ip: r.dst!, dev: r.dev ?? '' }));
}

/** `virtual_router_id N` lines of keepalived configs. */
export function parseKeepalivedVrids(lines: string[]): SeenVrid[] {
  return lines.flatMap((l) => {
    const m = /^\s*virtual_router_id\s+(\d+)/.exec(l);
    const vrid = m ? Number(m[1]) : NaN;
    return vrid >= 1 && vrid <= 255 ? [{ vrid, source: 'keepalived.conf' as const }] : [];
  });
}

/** Lines of the python3 listener ("vrrp IFACE SRC VRID PRIO IPS") or of tcpdump ("… > 224.0.0.18: VRRPv2, Advertisement, vrid 51, prio 150, …"). */
export function parseAdverts(lines: string[]): SeenVrid[] {
  const out: SeenVrid[] = [];
  for (const l of lines) {
    const py = /^vrrp (\S+) ([\d.]+) (\d+) (\d+) (\S+)$/.exec(l);
    if (py) {
      const vrid = Number(py[3]);
      if (vrid < 1 || vrid > 255) continue;
      out.push({
        vrid,
        source: 'advert',
        iface: py[1],
        from: py[2],
        priority: Number(py[4]),
        ...(py[5] !== '-' ? { vips: py[5].split(',') } : {}),
      });
      continue;
    }
    const td =
      /(?:^|\s)(?:(\S+)\s+(?:In|Out|B|M|P)\s+)?IP ([\d.]+) > [\d.]+: VRRPv\d, Advertisement, vrid (\d+), prio (\d+)(?:.*?addrs(?:\(\d+\))?: ([\d.,]+))?/.exec(
        l,
      );
    if (td) {
      const vrid = Number(td[3]);
      if (vrid < 1 || vrid > 255) continue;
      out.push({
        vrid,
        source: 'advert',
        ...(td[1] ? { iface: td[1] } : {}),
        from: td[2],
        priority: Number(td[4]),
        ...(td[5] ? { vips: td[5].split(',') } : {}),
      });
    }
  }
  return out;
}
