/**
 * Addresses. A backend address is written as `server <host>:<port>` in nginx.conf (an IPv6 one
 * in brackets, which hactl adds); a load balancer's address is where SSH connects and, as an IP,
 * a unicast peer in keepalived.conf. So a host is a host: a port, brackets, a zone index or a
 * scheme in it would produce a different address (or none) in the file.
 */
import { isIP } from 'node:net';
import { badChars, type Grammar, type Verdict } from './grammar.js';
import type { PathSeg } from './problems.js';

const LABEL = '[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?';
export const DOMAIN = `${LABEL}(?:\\.${LABEL})*`;
/** Two colons or more: an IPv6 address (validated by lint with isIP); one colon is host:port. */
const IPV6ISH = '(?=[0-9A-Fa-f.]*:[0-9A-Fa-f.]*:)[0-9A-Fa-f.:]+';

const isBackend = (path: readonly PathSeg[]) => path.includes('backends');

function portFix(host: string, port: string, path: readonly PathSeg[]): string {
  return isBackend(path)
    ? `write address: ${host} and port: ${port}`
    : `write address: ${host} and the SSH port as ssh: { port: ${port} }`;
}

/** The shapes people paste where a host belongs, each with its own fix. */
function pastedShape(v: string, path: readonly PathSeg[]): Verdict | undefined {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(v))
    return { message: 'is a URL; only the host belongs here', fix: 'write the host name or IP alone' };
  if (/^unix:/.test(v))
    return { message: 'is a unix socket, which hactl cannot write (it renders <host>:<port>)', fix: 'use a host' };
  if (v.includes('%'))
    return {
      message: 'carries an IPv6 zone index (%…), which nginx and keepalived do not parse',
      fix: 'use a global address',
    };
  const bracketed = v.match(/^\[([^\]]*)\](?::(\d+))?$/);
  if (bracketed)
    return bracketed[2]
      ? { message: 'carries a port', fix: portFix(bracketed[1], bracketed[2], path) }
      : {
          message: 'is in brackets',
          fix: `write ${bracketed[1]} without brackets (hactl adds them where nginx needs them)`,
        };
  const hostPort = v.match(/^([^:]+):(\d*)$/);
  if (hostPort) return { message: 'carries a port', fix: portFix(hostPort[1], hostPort[2] || '<port>', path) };
  if (v.includes('@'))
    return { message: 'contains a user@', fix: 'write the host alone; the SSH user goes in ssh: { user: … }' };
  return undefined;
}

export const HOST: Grammar = {
  pattern: `^(?:${IPV6ISH}|${DOMAIN}\\.?)$`,
  explain(v, path) {
    const shape = pastedShape(v, path);
    if (shape) return shape;
    const bad = badChars(v, /[A-Za-z0-9_.:-]/);
    if (bad) return { message: `contains ${bad}`, fix: 'write an IP address or a DNS name' };
    return {
      message: 'is not a host name: each dot-separated label starts and ends with a letter or digit (at most 63)',
      fix: 'write an IP address or a DNS name',
    };
  },
};

export const VRRP_ADDRESS: Grammar = {
  pattern: `^(?:[0-9.]+|${IPV6ISH})(?:/[0-9]{1,3})?$`,
  explain(v, path) {
    const shape = pastedShape(v.replace(/\/\d+$/, ''), path);
    if (shape) return shape;
    return {
      message: 'is not an IP address (it is written as unicast_src_ip and compared with the VIP subnets)',
      fix: "write this node's IP on the VRRP interface, e.g. 10.0.0.11 or 10.0.0.11/24",
    };
  },
};

/** A host that looks like an IP must be one: 10.0.0.300 would otherwise be looked up in DNS. */
export function ipShapeProblem(v: string): Verdict | undefined {
  if (/^[0-9.]+$/.test(v) && isIP(v) !== 4)
    return { message: 'looks like an IPv4 address but is not one', fix: 'write four numbers 0-255, e.g. 10.0.0.11' };
  if (v.includes(':') && isIP(v) !== 6)
    return { message: 'is not a valid IPv6 address', fix: 'check the groups, e.g. 2001:db8::11' };
  return undefined;
}

/** A VIP is address/prefix: what keepalived's virtual_ipaddress and nginx's listen both take. */
export function cidrProblem(v: string): Verdict | undefined {
  const port = { message: 'carries a port', fix: 'remove the port: each site says which port nginx listens on' };
  if (/^[0-9.]+(:\d+\/\d+|\/\d+:\d+)$/.test(v)) return port;
  const shape = pastedShape(v.replace(/\/\d+$/, ''), ['vips']);
  if (shape) return shape.message === port.message ? port : shape;
  const m = v.match(/^([^/]+)\/(\d{1,3})$/);
  if (!m)
    return { message: 'is not an address with a prefix', fix: 'write it like 192.168.10.60/24 or 2001:db8::60/64' };
  const family = isIP(m[1]);
  if (family === 0) return { message: 'is not an IP address with a prefix', fix: 'write it like 192.168.10.60/24' };
  if (Number(m[2]) > (family === 4 ? 32 : 128))
    return { message: `has a prefix longer than /${family === 4 ? 32 : 128}`, fix: 'use the subnet prefix, e.g. /24' };
  return undefined;
}
