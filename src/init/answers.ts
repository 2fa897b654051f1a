/**
 * The answers `hactl init` needs, and the parsers shared by flags and wizard prompts: each
 * returns a value or a message saying what is wrong (so a prompt can re-ask, and a flag can
 * fail with the same words).
 */
import { isIP } from 'node:net';
import { HOSTNAME_PATTERN, NAME_PATTERN } from '../inventory/patterns.js';
import { parseCidr } from '../util/ip.js';
import type { Mode } from './propose.js';

export type HostKeyPolicy = 'strict' | 'accept-new';

export interface SshAnswers {
  user: string;
  port?: number;
  identityFile?: string;
  knownHosts?: string;
  hostKeyPolicy: HostKeyPolicy;
  jumpHost?: string;
}

export interface LbAnswer {
  name: string;
  address: string;
  /** Set when this node's VRRP interface differs from the cluster's. */
  interface?: string;
  /** Set when the SSH address is not this node's address on the VRRP interface. */
  vrrpAddress?: string;
}

export interface VipAnswer {
  name: string;
  /** address/prefix */
  address: string;
  vrid: number;
  master: string;
  priorities: Record<string, number>;
}

export interface BackendAnswer {
  name: string;
  address: string;
  port: number;
}

export interface InitAnswers {
  cluster: string;
  ssh: SshAnswers;
  mode: Mode;
  interface: string;
  lbs: LbAnswer[];
  vips: VipAnswer[];
  backends: BackendAnswer[];
  serverNames: string[];
  healthPath: string;
  /** Environment variable holding the VRRP password; undefined: no VRRP authentication. */
  vrrpPassEnv?: string;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; error: string };
const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const bad = <T>(error: string): Parsed<T> => ({ ok: false, error });

const nameRe = new RegExp(NAME_PATTERN);
const hostRe = new RegExp(HOSTNAME_PATTERN);

export const isHost = (s: string) => isIP(s) !== 0 || hostRe.test(s);

/** Items separated by commas and/or whitespace. */
export function splitList(text: string): string[] {
  return text
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter(Boolean);
}

/** A default host name: the first label of a DNS name, else prefix + position. */
function nameFor(address: string, prefix: string, index: number): string {
  const label = isIP(address) === 0 ? address.split('.')[0] : '';
  return label && nameRe.test(label) ? label : `${prefix}${index + 1}`;
}

/** `name=address` or `address` items → load balancers (at least two, distinct names and addresses). */
export function parseLbs(items: string[]): Parsed<LbAnswer[]> {
  const lbs: LbAnswer[] = [];
  for (const [i, item] of items.entries()) {
    const m = /^(?:([^=]+)=)?(.+)$/.exec(item)!;
    const address = m[2];
    const name = m[1] ?? nameFor(address, 'lb', i);
    if (!nameRe.test(name)) return bad(`"${name}" is not a usable name (letters, digits, . _ -; up to 63 characters)`);
    if (!isHost(address)) return bad(`"${address}" is not an IP address or host name`);
    lbs.push({ name, address });
  }
  if (lbs.length < 2) return bad('give at least two load balancers, e.g. lb1=192.168.10.20 lb2=192.168.10.30');
  const dupName = lbs.find((l, i) => lbs.findIndex((o) => o.name === l.name) !== i);
  if (dupName) return bad(`load balancer name "${dupName.name}" is given twice`);
  const dupAddr = lbs.find((l, i) => lbs.findIndex((o) => o.address === l.address) !== i);
  if (dupAddr) return bad(`address ${dupAddr.address} is given twice`);
  return ok(lbs);
}

/** `[name=]address[:port]` items → backends. */
export function parseBackends(items: string[]): Parsed<BackendAnswer[]> {
  const out: BackendAnswer[] = [];
  for (const [i, item] of items.entries()) {
    const m = /^(?:([^=]+)=)?(\[[^\]]+\]|[^:]+|[0-9a-fA-F:]+)(?::(\d+))?$/.exec(item);
    if (!m) return bad(`"${item}" is not [name=]address[:port]`);
    const address = m[2].replace(/^\[|\]$/g, '');
    const name = m[1] ?? nameFor(address, 'web', i);
    const port = m[3] ? Number(m[3]) : 80;
    if (!nameRe.test(name)) return bad(`"${name}" is not a usable backend name`);
    if (!isHost(address)) return bad(`"${address}" is not an IP address or host name`);
    if (!(port >= 1 && port <= 65535)) return bad(`port ${m[3]} is not 1-65535`);
    out.push({ name, address, port });
  }
  if (out.length === 0) return bad('give at least one backend web server, e.g. 192.168.10.10:80');
  const dup = out.find((b, i) => out.findIndex((o) => o.name === b.name) !== i);
  if (dup) return bad(`backend name "${dup.name}" is given twice`);
  return ok(out);
}

/** An IPv4/IPv6 VIP with its prefix. */
export function parseVip(text: string): Parsed<string> {
  const c = parseCidr(text.trim());
  if (!c) return bad(`"${text}" is not an address with a prefix, e.g. 192.168.10.60/24`);
  return ok(`${c.ip}/${c.prefix}`);
}

export function parseVrid(text: string): Parsed<number> {
  const n = Number(text);
  return Number.isInteger(n) && n >= 1 && n <= 255 ? ok(n) : bad(`VRID "${text}" is not a whole number 1-255`);
}

/** `lb1=150,lb2=100` → priorities; every load balancer exactly once, distinct values. */
export function parsePriorities(text: string, lbs: string[]): Parsed<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const item of splitList(text)) {
    const m = /^([^=]+)=(\d+)$/.exec(item);
    if (!m) return bad(`"${item}" is not name=priority`);
    if (!lbs.includes(m[1])) return bad(`"${m[1]}" is not a load balancer (${lbs.join(', ')})`);
    const p = Number(m[2]);
    if (p < 1 || p > 254) return bad(`priority ${p} is not 1-254`);
    out[m[1]] = p;
  }
  const missing = lbs.filter((l) => out[l] === undefined);
  if (missing.length > 0) return bad(`give a priority for ${missing.join(', ')}`);
  if (new Set(Object.values(out)).size !== lbs.length) return bad('give every load balancer a distinct priority');
  return ok(out);
}

export function formatPriorities(p: Record<string, number>): string {
  return Object.entries(p)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

export function parseServerNames(items: string[]): Parsed<string[]> {
  const re =
    /^(\*\.)?[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(\.[A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*(\.\*)?$/;
  const badName = items.find((s) => !re.test(s));
  if (badName) return bad(`"${badName}" is not a server name such as www.example.com`);
  return items.length > 0 ? ok(items) : bad('give at least one server name, e.g. www.example.com');
}

export function parseName(text: string, what: string): Parsed<string> {
  return nameRe.test(text) ? ok(text) : bad(`${what} "${text}" may use letters, digits, . _ - (up to 63 characters)`);
}

/** A site name from the first server name: its first label, else "www". */
export function siteName(serverNames: string[]): string {
  const label = serverNames[0]?.replace(/^\*\./, '').split('.')[0] ?? '';
  return nameRe.test(label) ? label : 'www';
}
