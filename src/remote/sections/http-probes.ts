/**
 * HTTP requests made from a load balancer (to each backend, and through each VIP): one curl
 * (its start-up is the costly part) makes every request, in parallel, in the background while
 * the other sections of the same exec run; the section collects the results at the end. Each
 * request is its own --next group (own Host header and -w line). A curl without --parallel
 * (before 7.66) writes nothing and the requests are repeated one after another. %header{}
 * needs curl 7.84+; older curls print it verbatim and the parser drops it.
 */
import { cmd, raw, script } from '../script.js';
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
}

export function urlOf(ip: string, port: number, path: string, scheme = 'http'): string {
  return `${scheme}://${ip.includes(':') ? `[${ip}]` : ip}:${port}${path}`;
}

export function httpProbesSection(probes: readonly HttpProbe[]): Section<HttpProbeResult[]> {
  if (probes.length === 0) return section('http-probes', raw(':'), () => []);
  const groups = probes
    .map(
      (p) =>
        cmd`-s ${raw(p.https ? '-k ' : '')}-o /dev/null -m 2 -w ${`${p.id} %{http_code} %{time_total} %header{x-hactl-upstream}\n`} -H ${`Host: ${p.host}`} ${urlOf(p.ip, p.port, p.path, p.https ? 'https' : 'http')}`
          .text,
    )
    .join(' --next ');
  const before = script(
    raw('hp_f=$(mktemp) || hp_f=/dev/null'),
    raw(
      `{ curl --parallel --parallel-immediate ${groups} > "$hp_f" 2>/dev/null; [ -s "$hp_f" ] || curl ${groups} > "$hp_f" 2>/dev/null; } &`,
    ),
  );
  const collect = script(
    raw('wait'),
    raw('while read -r hp_l; do echo "$hp_l"; done < "$hp_f"'),
    raw('[ "$hp_f" = /dev/null ] || rm -f "$hp_f"'),
  );
  return section('http-probes', collect, parseProbes, before);
}

export function parseProbes(lines: string[]): HttpProbeResult[] {
  return lines
    .filter((l) => l.trim())
    .map((l) => {
      const [id, status, secs, ...rest] = l.trim().split(' ');
      const upstream = rest.join(' ').trim();
      return {
        id,
        status: Number(status) || 0,
        ms: Math.round(Number(secs) * 1000),
        ...(upstream && !upstream.startsWith('%') ? { upstream } : {}),
      };
    });
}
