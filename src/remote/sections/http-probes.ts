/**
 * HTTP requests made from a load balancer (to each backend, and through each VIP): one curl
 * (its start-up is the costly part) makes every request, in parallel, in the background while
 * the other sections of the same exec run; the section collects the results at the end. Each
 * request is its own --next group (own Host header and -w line). A curl without --parallel
 * (before 7.66) writes nothing and the requests are repeated one after another. %header{}
 * needs curl 7.84+; older curls print it verbatim and the parser drops it.
 *
 * With `tokenFile` (the nginx file hactl deployed), every request carries the probe token
 * found in it, so nginx says which load balancer and backend answered. The token goes from
 * that file into a mktemp file curl reads with `-H @file`: it is never on a command line
 * (where `ps` would show it) and never leaves the host.
 */
import { cmd, hostPath, raw, script } from '../script.js';
import { section, type Section } from '../section.js';

export interface HttpProbe {
  id: string;
  ip: string;
  port: number;
  host: string;
  path: string;
  /** HTTPS, without verifying the certificate (this machine's verify checks the certificates). */
  https?: boolean;
}

export interface HttpProbeResult {
  id: string;
  /** HTTP status, 0 when no answer. */
  status: number;
  ms: number;
  /** The response's X-Hactl-Upstream header (which backend answered), when present. */
  upstream?: string;
  /** The response's X-Hactl-LB header (which load balancer answered), when present. */
  lb?: string;
}

export interface HttpProbesOptions {
  /** The deployed nginx file that holds the probe token. */
  tokenFile?: string;
}

/** Same pattern as render/probe-token.ts TOKEN, as sed reads it. */
const TOKEN_SED = `s/^ *"\\([0-9a-f]\\{32\\}\\)" .*# hactl probe token$/\\1/p`;

export function urlOf(ip: string, port: number, path: string, scheme = 'http'): string {
  return `${scheme}://${ip.includes(':') ? `[${ip}]` : ip}:${port}${path}`;
}

export function httpProbesSection(
  probes: readonly HttpProbe[],
  opts: HttpProbesOptions = {},
): Section<HttpProbeResult[]> {
  if (probes.length === 0) return section('http-probes', raw(':'), () => []);
  const token = opts.tokenFile ? raw(' -H @"$hp_h"') : raw('');
  const groups = probes
    .map(
      (p) =>
        cmd`-s ${raw(p.https ? '-k ' : '')}-o /dev/null -m 2 -w ${`${p.id} %{http_code} %{time_total} %header{x-hactl-lb} %header{x-hactl-upstream}\n`} -H ${`Host: ${p.host}`}${token} ${urlOf(p.ip, p.port, p.path, p.https ? 'https' : 'http')}`
          .text,
    )
    .join(' --next ');
  const before = script(
    raw('hp_f=$(mktemp) || hp_f=/dev/null'),
    !!opts.tokenFile &&
      script(
        raw('hp_h=$(mktemp) || hp_h=/dev/null'),
        cmd`hp_k=$(sed -n ${TOKEN_SED} ${hostPath(opts.tokenFile)} 2>/dev/null | head -n 1)`,
        raw(`[ -n "$hp_k" ] && [ "$hp_h" != /dev/null ] && printf 'X-Hactl-Probe: %s\n' "$hp_k" > "$hp_h"; hp_k=`),
      ),
    raw(
      `{ curl --parallel --parallel-immediate ${groups} > "$hp_f" 2>/dev/null; [ -s "$hp_f" ] || curl ${groups} > "$hp_f" 2>/dev/null; } &`,
    ),
  );
  const collect = script(
    raw('wait'),
    raw('while read -r hp_l; do echo "$hp_l"; done < "$hp_f"'),
    raw('[ "$hp_f" = /dev/null ] || rm -f "$hp_f"'),
    !!opts.tokenFile && raw('[ "$hp_h" = /dev/null ] || rm -f "$hp_h"'),
  );
  return section('http-probes', collect, parseProbes, before);
}

/** `id status seconds lb upstream…`: lb is one word or empty; upstream may list several ("a, b"). */
export function parseProbes(lines: string[]): HttpProbeResult[] {
  const given = (v: string | undefined) => (v && !v.startsWith('%') ? v : undefined);
  return lines
    .filter((l) => l.trim())
    .map((l) => {
      const [id, status, secs, lb, ...rest] = l.trim().split(' ');
      const upstream = given(rest.join(' ').trim());
      const answeredBy = given(lb);
      return {
        id,
        status: Number(status) || 0,
        ms: Math.round(Number(secs) * 1000),
        ...(upstream ? { upstream } : {}),
        ...(answeredBy ? { lb: answeredBy } : {}),
      };
    });
}
