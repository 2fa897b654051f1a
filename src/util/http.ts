/**
 * The one HTTP client: a GET from this machine on a new connection (agent: false, so each
 * request sees where a VIP is *now*), with a deadline on the whole exchange. Pure Node, no
 * Linux tools, so it works on an operator's laptop. verify, deploy's checks and the
 * failover prober all use it.
 */
import { request, type Agent } from 'node:http';

export interface HttpTarget {
  ip: string;
  port: number;
  /** Host header. */
  host: string;
  path: string;
  /** Connect to last byte. */
  timeoutMs: number;
}

export interface HttpResult {
  /** 0 when there was no answer. */
  status: number;
  /** Error code (ECONNREFUSED, timeout…) when the exchange failed. */
  error?: string;
  /** Time to the last byte (or the failure), ms with one decimal. */
  ms: number;
  /** The first 4 KiB of the body. */
  body: string;
  headers: Record<string, string | string[] | undefined>;
  /**
   * The request went out on a kept-alive connection a previous request used (keep-alive
   * clients only). With an error and no status, HTTP lets a client retry an idempotent
   * request once: the server closed that connection before answering.
   */
  reusedSocket?: boolean;
}

const BODY_LIMIT = 4096;

export const is2xx = (r: Pick<HttpResult, 'status'>) => r.status >= 200 && r.status < 300;

export function header(r: HttpResult, name: string): string | undefined {
  const v = r.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

/** How the operator machine makes HTTP requests: httpGet in real runs, a stand-in in the cli tier. */
export type HttpClient = (t: HttpTarget, extraHeaders?: Record<string, string>) => Promise<HttpResult>;

/**
 * A client on `agent`: `false` (httpGet) opens a new connection per request and closes it;
 * a keep-alive Agent keeps and reuses connections, as browsers and API clients do.
 */
export function httpClientOn(agent: Agent | false): HttpClient {
  return (t, extraHeaders = {}) => {
    const started = performance.now();
    return new Promise((resolve) => {
      let settled = false;
      const done = (r: Omit<HttpResult, 'ms'>) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        const reused = agent ? { reusedSocket: req.reusedSocket } : {};
        resolve({ ...r, ...reused, ms: Math.round((performance.now() - started) * 10) / 10 });
      };
      const req = request({
        host: t.ip,
        port: t.port,
        path: t.path,
        method: 'GET',
        agent,
        headers: { Host: t.host, ...(agent ? {} : { Connection: 'close' }), 'User-Agent': 'hactl', ...extraHeaders },
      });
      const timer = setTimeout(
        () => req.destroy(Object.assign(new Error('timeout'), { code: 'timeout' })),
        t.timeoutMs,
      );
      req.on('error', (e: NodeJS.ErrnoException) =>
        done({ status: 0, error: e.code ?? e.message, body: '', headers: {} }),
      );
      req.on('response', (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          if (body.length < BODY_LIMIT) body += c.slice(0, BODY_LIMIT - body.length);
        });
        res.on('error', (e: NodeJS.ErrnoException) =>
          done({ status: res.statusCode ?? 0, error: e.code ?? e.message, body, headers: res.headers }),
        );
        res.on('end', () => done({ status: res.statusCode ?? 0, body, headers: res.headers }));
      });
      req.end();
    });
  };
}

export const httpGet: HttpClient = httpClientOn(false);
