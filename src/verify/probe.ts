/**
 * An HTTP prober for failover measurements: GET at a fixed rate for a bounded time, each with
 * a short deadline. `new` clients open a connection per request (agent: false), so each one
 * sees where the VIP is *now*; `keepalive` clients reuse a few persistent connections, as
 * browsers and API clients do, and so also see what a failover does to connections already
 * open (reset, or hung until the deadline). A keep-alive request that failed on a reused
 * connection closed before any answer is retried once on a new connection, the one retry HTTP
 * allows a client for an idempotent request (RFC 9110 9.2.2); the result keeps the first
 * error. Returns every result with the time it was sent. Pure Node, no Linux tools, so it
 * runs on an operator's laptop too.
 */
import type { Agent } from 'node:http';
import {
  header,
  httpClientOn,
  httpGet,
  keepAliveAgent,
  type HttpClient,
  type HttpResult,
  type TlsTarget,
} from '../util/http.js';
import { sleep } from '../util/sleep.js';

export interface ProbeOptions {
  /** http://host[:port]/path; or give ip (and port, path). */
  url?: string;
  ip?: string;
  port?: number;
  path?: string;
  /** Host header; default the URL's host or the ip. */
  hostHeader?: string;
  /** Requests per second, 0.1 to 1000. */
  ratePerSec: number;
  /** How long to keep sending, at most 10 minutes. */
  durationMs: number;
  /** Deadline of each request (connect to last byte). Default 1000 ms. */
  timeoutMs?: number;
  /** Stops sending early; requests in flight still finish (each within timeoutMs). */
  signal?: AbortSignal;
  /** Hard cap on requests, default 100000. */
  maxRequests?: number;
  /** new clients' HTTP. Default: httpGet. */
  http?: HttpClient;
  /** HTTPS: each request a new connection with a full handshake, with this SNI name. */
  tls?: TlsTarget;
  /** keepalive clients' HTTP. Default: a keep-alive Agent of `connections` sockets, made for this probe. */
  keepAliveHttp?: HttpClient;
  /** Default new. */
  client?: ClientKind;
  /** Persistent connections of a keepalive client. Default 4. */
  connections?: number;
  /** Sent with every request (the probe token; never part of a result). */
  headers?: Record<string, string>;
}

export type ClientKind = 'new' | 'keepalive';

export interface ProbeResult {
  seq: number;
  /** Epoch ms when the request was sent. */
  t: number;
  latencyMs: number;
  /** 2xx or 3xx. */
  ok: boolean;
  status?: number;
  error?: string;
  /** X-Hactl-LB response header: the load balancer that answered. */
  lb?: string;
  /** X-Hactl-Upstream response header: the backend nginx proxied to. */
  upstream?: string;
  /** First 200 characters of the body. */
  body: string;
  client: ClientKind;
  /** The first attempt's error, when a keep-alive request was retried (see the header comment). */
  retriedAfter?: string;
}

const MAX_RATE = 1000;
const MAX_DURATION_MS = 600_000;
const BODY_SNIPPET = 200;

interface Target {
  host: string;
  port: number;
  path: string;
  hostHeader: string;
  tls?: TlsTarget;
}

function target(o: ProbeOptions): Target {
  if (o.url) {
    const u = new URL(o.url);
    if (u.protocol !== 'http:') throw new Error(`probe: only http:// URLs (got ${o.url})`);
    const host = u.hostname.replace(/^\[|\]$/g, '');
    return { host, port: Number(u.port || 80), path: `${u.pathname}${u.search}`, hostHeader: o.hostHeader ?? u.host };
  }
  if (!o.ip) throw new Error('probe: give url or ip');
  return {
    host: o.ip,
    port: o.port ?? 80,
    path: o.path ?? '/',
    hostHeader: o.hostHeader ?? o.ip,
    ...(o.tls ? { tls: o.tls } : {}),
  };
}

/** What HTTP lets a client retry by itself: no answer at all, on a connection a previous request had used. */
export function retryable(r: HttpResult): boolean {
  return r.reusedSocket === true && r.status === 0 && (r.error === 'ECONNRESET' || r.error === 'EPIPE');
}

interface Sender {
  client: ClientKind;
  send: (to: Target, timeoutMs: number) => Promise<{ r: HttpResult; retriedAfter?: string }>;
  close(): void;
}

function sender(o: ProbeOptions): Sender {
  const headers = { 'User-Agent': 'hactl-probe', ...o.headers };
  const target = (to: Target, timeoutMs: number) => ({
    ip: to.host,
    port: to.port,
    path: to.path,
    host: to.hostHeader,
    timeoutMs,
    ...(to.tls ? { tls: to.tls } : {}),
  });
  if ((o.client ?? 'new') === 'new') {
    const http = o.http ?? httpGet;
    return { client: 'new', send: async (to, ms) => ({ r: await http(target(to, ms), headers) }), close: () => {} };
  }
  let agent: Agent | undefined;
  const http = o.keepAliveHttp ?? httpClientOn((agent = keepAliveAgent(o.connections ?? 4, o.tls)));
  return {
    client: 'keepalive',
    send: async (to, ms) => {
      const first = await http(target(to, ms), headers);
      if (!retryable(first)) return { r: first };
      return { r: await httpGet(target(to, ms), headers), retriedAfter: first.error };
    },
    close: () => agent?.destroy(),
  };
}

async function once(seq: number, to: Target, timeoutMs: number, s: Sender): Promise<ProbeResult> {
  const t = Date.now();
  const { r, retriedAfter } = await s.send(to, timeoutMs);
  const lb = header(r, 'x-hactl-lb');
  const upstream = header(r, 'x-hactl-upstream');
  return {
    seq,
    t,
    latencyMs: r.ms,
    ok: !r.error && r.status >= 200 && r.status < 400,
    ...(r.status ? { status: r.status } : {}),
    ...(r.error ? { error: r.error } : {}),
    ...(lb ? { lb } : {}),
    ...(upstream ? { upstream } : {}),
    body: r.body.slice(0, BODY_SNIPPET),
    client: s.client,
    ...(retriedAfter ? { retriedAfter } : {}),
  };
}

/** Sends ratePerSec × durationMs requests (capped) on schedule and resolves when all have finished. */
export async function probe(opts: ProbeOptions): Promise<ProbeResult[]> {
  if (!(opts.ratePerSec >= 0.1 && opts.ratePerSec <= MAX_RATE))
    throw new Error(`probe: ratePerSec must be 0.1..${MAX_RATE}`);
  if (!(opts.durationMs > 0 && opts.durationMs <= MAX_DURATION_MS))
    throw new Error(`probe: durationMs must be 1..${MAX_DURATION_MS}`);
  const to = target(opts);
  const timeoutMs = Math.min(opts.timeoutMs ?? 1000, 30_000);
  const interval = 1000 / opts.ratePerSec;
  const count = Math.max(1, Math.min(Math.floor(opts.durationMs / interval), opts.maxRequests ?? 100_000));
  const start = performance.now();
  const pending: Promise<ProbeResult>[] = [];
  const s = sender(opts);
  try {
    for (let seq = 0; seq < count; seq++) {
      if (opts.signal?.aborted) break;
      const wait = start + seq * interval - performance.now();
      if (wait > 0) {
        await sleep(wait, opts.signal);
        if (opts.signal?.aborted) break;
      }
      pending.push(once(seq, to, timeoutMs, s));
    }
    return await Promise.all(pending);
  } finally {
    s.close();
  }
}

export interface RunningProbe {
  /** Stops sending and resolves with every result once requests in flight have finished. */
  stop(): Promise<ProbeResult[]>;
  /** Resolves when the probe ends by itself (duration reached) or after stop(). */
  done: Promise<ProbeResult[]>;
}

/** Starts probe() in the background; it still ends by itself after durationMs. */
export function startProbe(opts: Omit<ProbeOptions, 'signal'>): RunningProbe {
  const controller = new AbortController();
  const done = probe({ ...opts, signal: controller.signal });
  done.catch(() => undefined);
  return {
    done,
    stop: () => {
      controller.abort();
      return done;
    },
  };
}

export interface ProbeSummary {
  sent: number;
  ok: number;
  failed: number;
  byLb: Record<string, number>;
  byUpstream: Record<string, number>;
  /** Longest run of failures, from the first failed send to the next good one (or the last result). */
  longestOutageMs: number;
  errors: Record<string, number>;
}

export function summarizeProbe(results: readonly ProbeResult[]): ProbeSummary {
  const count = (m: Record<string, number>, k: string | undefined) => {
    if (k) m[k] = (m[k] ?? 0) + 1;
  };
  const s: ProbeSummary = {
    sent: results.length,
    ok: 0,
    failed: 0,
    byLb: {},
    byUpstream: {},
    longestOutageMs: 0,
    errors: {},
  };
  let outageStart: number | undefined;
  const sorted = [...results].sort((a, b) => a.seq - b.seq);
  for (const r of sorted) {
    if (r.ok) {
      s.ok++;
      count(s.byLb, r.lb);
      count(s.byUpstream, r.upstream);
      if (outageStart !== undefined) s.longestOutageMs = Math.max(s.longestOutageMs, r.t - outageStart);
      outageStart = undefined;
    } else {
      s.failed++;
      count(s.errors, r.error ?? `HTTP ${r.status}`);
      outageStart ??= r.t;
    }
  }
  const last = sorted.at(-1);
  if (outageStart !== undefined && last)
    s.longestOutageMs = Math.max(s.longestOutageMs, last.t + last.latencyMs - outageStart);
  return s;
}
