/**
 * How TLS sites sit beside the others on the VIPs: nginx turns TLS on per listening socket
 * (address and port), so a TLS and a plain site cannot share one; the redirect of a TLS site
 * listens on port 80 of its VIPs, where a plain site of the same name would collide with it.
 */
import type { Rule } from './lint-rule.js';
import type { Problem } from './problems.js';

const sitePort = (s: { port?: number; tls?: unknown }) => s.port ?? (s.tls ? 443 : 80);

const tlsSockets: Rule = (c, at, loc) => {
  const out: Problem[] = [];
  const plain = new Map<string, number>();
  c.sites.forEach((s, i) => {
    if (!s.tls) for (const vip of s.vips) plain.set(`${vip}:${sitePort(s)}`, i);
  });
  c.sites.forEach((s, i) => {
    if (!s.tls) return;
    for (const vip of s.vips) {
      const other = plain.get(`${vip}:${sitePort(s)}`);
      if (other !== undefined)
        out.push(
          loc.problem(
            at('sites', i, 'port'),
            'site-conflict',
            `${vip}:${sitePort(s)} is served with TLS here and without it by sites[${other}]; nginx turns TLS on per address and port`,
            'give one of them another port',
          ),
        );
    }
  });
  return out;
};

const redirects: Rule = (c, at, loc) => {
  const out: Problem[] = [];
  c.sites.forEach((s, i) => {
    if (!s.tls || s.tls.redirect_http === false) return;
    if (sitePort(s) === 80) {
      out.push(
        loc.problem(
          at('sites', i, 'tls', 'redirect_http'),
          'site-conflict',
          'this TLS site listens on port 80, where its redirect to HTTPS would listen too',
          'use port 443 (the default with tls), or redirect_http: false',
        ),
      );
      return;
    }
    c.sites.forEach((o, j) => {
      if (o.tls || sitePort(o) !== 80) return;
      const names = s.server_names.filter((n) => o.server_names.some((m) => m.toLowerCase() === n.toLowerCase()));
      const vips = s.vips.filter((v) => o.vips.includes(v));
      if (names.length && vips.length)
        out.push(
          loc.problem(
            at('sites', i, 'tls', 'redirect_http'),
            'site-conflict',
            `the redirect of ${names.join(', ')} to HTTPS on ${vips.join(', ')}:80 collides with sites[${j}], which serves them there`,
            `set redirect_http: false, or remove those names from sites[${j}]`,
          ),
        );
    });
  });
  return out;
};

/** Before nginx 1.25.1, `listen … http2` holds for every server on that address and port. */
const http2Agrees: Rule = (c, at, loc) => {
  const out: Problem[] = [];
  const seen = new Map<string, { i: number; on: boolean }>();
  c.sites.forEach((s, i) => {
    if (!s.tls) return;
    const on = s.tls.http2 ?? true;
    for (const vip of s.vips) {
      const key = `${vip}:${sitePort(s)}`;
      const first = seen.get(key);
      if (!first) seen.set(key, { i, on });
      else if (first.on !== on)
        out.push(
          loc.problem(
            at('sites', i, 'tls', 'http2'),
            'tls-http2',
            `sites[${first.i}] and this site share ${key} but not their http2 setting; nginx before 1.25.1 turns HTTP/2 on per address and port, for both`,
            'give them the same http2 setting, or different ports',
            { severity: 'warning' },
          ),
        );
    }
  });
  return out;
};

export const TLS_RULES: Rule[] = [tlsSockets, redirects, http2Agrees];
