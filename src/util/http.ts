/**
 * The one HTTP client: a GET from this machine on a new connection (agent: false, so each
 * request sees where a VIP is *now*), with a deadline on the whole exchange. Pure Node, no
 * Linux tools, so it works on an operator's laptop. verify, deploy's checks and the
 * failover prober all use it.
 */
import { Agent, request, type AgentOptions, type ClientRequestArgs } from 'node:http';
import type { Socket } from 'node:net';
import { tlsConnection, type TlsPeer, type TlsTarget } from './tls-connect.js';

export type { TlsPeer, TlsTarget };

export interface HttpTarget {
  ip: string;
  port: number;
  /** Host header. */
  host: string;
  path: string;
  /** Connect to last byte. */
  timeoutMs: number;
  /** HTTPS: a TLS handshake with this SNI name first. */
  tls?: TlsTarget;
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
  /** With tls: what the handshake showed (absent when it did not complete). */
  tls?: TlsPeer;
  /**
   * The request went out on a kept-alive connection a previous request used (keep-alive
   * clients only). With an error and no status, HTTP lets a client retry an idempotent
   * request once: the server closed that connection before answering.
   */
  reusedSocket?: boolean;
}

const BODY_LIMIT = 4096;

/**
 * How many requests each kept-alive connection has carried. Node's own `req.reusedSocket` is
 * false when a request that waited in the agent's queue (all `maxSockets` busy) is handed the
 * connection the previous request just freed: under a closed-loop client that is most
 * requests, and a reload's keep-alive close race on them looked like a loss on a new
 * connection, which HTTP does not let a client retry (issue 14 §5). Counted here instead.
 */
const uses = new WeakMap<Socket, number>();

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
      let peer: TlsPeer | undefined;
      const done = (r: Omit<HttpResult, 'ms'>) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        const reused = agent ? { reusedSocket: req.reusedSocket || (usesBefore ?? 0) > 0 } : {};
        resolve({
          ...r,
          ...reused,
          ...(peer ? { tls: peer } : {}),
          ms: Math.round((performance.now() - started) * 10) / 10,
        });
      };
      const tls = t.tls;
      const req = request({
        // HTTPS on a new connection: one of its own (http then uses no agent), its handshake reported.
        // A keep-alive client's agent makes its TLS connections itself (keepAliveAgent).
        ...(tls && !agent
          ? { createConnection: () => tlsConnection(t.ip, t.port, tls, (p) => (peer = p)) }
          : { agent }),
        host: t.ip,
        port: t.port,
        path: t.path,
        method: 'GET',
        headers: { Host: t.host, ...(agent ? {} : { Connection: 'close' }), 'User-Agent': 'hactl', ...extraHeaders },
      });
      const timer = setTimeout(
        () => req.destroy(Object.assign(new Error('timeout'), { code: 'timeout' })),
        t.timeoutMs,
      );
      let usesBefore: number | undefined;
      req.on('socket', (socket) => {
        usesBefore = uses.get(socket) ?? 0;
        uses.set(socket, usesBefore + 1);
      });
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

/**
 * A keep-alive Agent of `maxSockets` persistent connections; with `tls`, they are TLS
 * connections to the site (SNI, CA bundle) made the way httpGet makes its own.
 */
export function keepAliveAgent(maxSockets: number, tls?: TlsTarget): Agent {
  const opts: AgentOptions = { keepAlive: true, maxSockets };
  if (!tls) return new Agent(opts);
  class TlsKeepAlive extends Agent {
    override createConnection(o: ClientRequestArgs): ReturnType<typeof tlsConnection> {
      return tlsConnection(String(o.host), Number(o.port), tls as TlsTarget, () => undefined);
    }
  }
  return new TlsKeepAlive(opts);
}
