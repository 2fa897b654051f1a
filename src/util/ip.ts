/** IPv4/IPv6 address and prefix arithmetic (pure, no dependencies). */
import { isIP } from 'node:net';

export interface Cidr {
  ip: string;
  prefix: number;
  family: 4 | 6;
}

function toBigInt(ip: string, family: 4 | 6): bigint {
  if (family === 4) return ip.split('.').reduce((acc, o) => (acc << 8n) | BigInt(Number(o)), 0n);
  // Expand :: and any embedded IPv4 tail.
  let s = ip;
  const v4 = s.match(/(\d+\.\d+\.\d+\.\d+)$/);
  if (v4) {
    const n = toBigInt(v4[1], 4);
    s = s.slice(0, -v4[1].length) + `${(n >> 16n).toString(16)}:${(n & 0xffffn).toString(16)}`;
  }
  const [head, tail] = s.includes('::') ? s.split('::') : [s, undefined];
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  return groups.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g || '0', 16)), 0n);
}

export function parseCidr(text: string): Cidr | undefined {
  const m = text.match(/^([^/]+)\/(\d{1,3})$/);
  if (!m) return undefined;
  const family = isIP(m[1]);
  if (family !== 4 && family !== 6) return undefined;
  const prefix = Number(m[2]);
  if (prefix > (family === 4 ? 32 : 128)) return undefined;
  return { ip: m[1], prefix, family };
}

export function ipFamily(text: string): 4 | 6 | undefined {
  const f = isIP(text);
  return f === 4 || f === 6 ? f : undefined;
}

/** The network address of ip/prefix, as text key "family/network/prefix". */
export function networkKey(c: Cidr): string {
  const bits = c.family === 4 ? 32 : 128;
  const n = toBigInt(c.ip, c.family);
  const mask = ((1n << BigInt(bits)) - 1n) ^ ((1n << BigInt(bits - c.prefix)) - 1n);
  return `${c.family}/${(n & mask).toString(16)}/${c.prefix}`;
}

export function contains(net: Cidr, ip: string): boolean {
  const family = ipFamily(ip);
  if (family !== net.family) return false;
  return networkKey(net) === networkKey({ ip, prefix: net.prefix, family });
}

/** True for the network or broadcast address of an IPv4 prefix shorter than /31. */
export function isNetworkOrBroadcast(c: Cidr): boolean {
  if (c.family !== 4 || c.prefix >= 31) return false;
  const host = toBigInt(c.ip, 4) & ((1n << BigInt(32 - c.prefix)) - 1n);
  return host === 0n || host === (1n << BigInt(32 - c.prefix)) - 1n;
}
