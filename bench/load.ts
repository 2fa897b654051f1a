/**
 * A bounded load client for the under-load tests: closed-loop keep-alive connections (each
 * sends its next request as soon as the previous answer arrived, as a busy API client does),
 * bounded in requests and time. Every request is recorded with what a careful client would do
 * with a failure: retried once on a new connection exactly when HTTP allows it (an idempotent
 * request on a reused connection closed before any answer, src/verify/probe.ts retryable()),
 * otherwise reported. Lab traffic only: the target is a lab VIP.
 */
import { Agent } from 'node:http';
import { httpClientOn, httpGet, type HttpResult } from '../src/util/http.js';
import { retryable } from '../src/verify/probe.js';

export interface LoadOptions {
  ip: string;
  port?: number;
  host: string;
  path: string;
  connections: number;
  /** Stop after this many requests in all… */
  maxRequests: number;
  /** …or this long, whichever comes first. */
  maxMs: number;
  timeoutMs?: number;
  headers?: Record<string, string>;
}

export interface LoadFailure {
  /** ms since the load started. */
  at: number;
  connection: number;
  /** The request's number in its loop (each loop holds one connection while it is alive). */
  nth: number;
  error: string;
  status: number;
  reused: boolean;
  /** The one retry HTTP allows, when it applied: did it answer? */
  retried?: 'ok' | string;
}

export interface LoadResult {
  sent: number;
  ok: number;
  /** Failed once, answered on the retry HTTP allows. */
  retriedOk: number;
  /** Failed and not answered (either not retryable, or its retry failed too). */
  lost: number;
  durationMs: number;
  failures: LoadFailure[];
}

export interface RunningLoad {
  /** Requests sent so far (to pace steps by progress, not by the clock). */
  sent(): number;
  stop(): Promise<LoadResult>;
  done: Promise<LoadResult>;
}

export function startLoad(o: LoadOptions): RunningLoad {
  const agent = new Agent({ keepAlive: true, maxSockets: o.connections });
  const http = httpClientOn(agent);
  const target = { ip: o.ip, port: o.port ?? 80, host: o.host, path: o.path, timeoutMs: o.timeoutMs ?? 2000 };
  const t0 = performance.now();
  const res: LoadResult = { sent: 0, ok: 0, retriedOk: 0, lost: 0, durationMs: 0, failures: [] };
  let stopped = false;
  const more = () => !stopped && res.sent < o.maxRequests && performance.now() - t0 < o.maxMs;
  const ok = (r: HttpResult) => !r.error && r.status >= 200 && r.status < 400;
  async function loop(connection: number) {
    let nth = 0;
    while (more()) {
      res.sent++;
      nth++;
      const r = await http(target, o.headers);
      if (ok(r)) {
        res.ok++;
        continue;
      }
      const f: LoadFailure = {
        at: Math.round(performance.now() - t0),
        connection,
        nth,
        error: r.error ?? `HTTP ${r.status}`,
        status: r.status,
        reused: r.reusedSocket === true,
      };
      if (retryable(r)) {
        const again = await httpGet(target, o.headers);
        f.retried = ok(again) ? 'ok' : (again.error ?? `HTTP ${again.status}`);
      }
      if (f.retried === 'ok') res.retriedOk++;
      else res.lost++;
      res.failures.push(f);
    }
  }
  const done = Promise.all(Array.from({ length: o.connections }, (_, i) => loop(i + 1))).then(() => {
    agent.destroy();
    res.durationMs = Math.round(performance.now() - t0);
    return res;
  });
  return {
    done,
    sent: () => res.sent,
    stop: () => {
      stopped = true;
      return done;
    },
  };
}
