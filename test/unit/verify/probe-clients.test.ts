/**
 * The prober's two kinds of client against a local server: keep-alive clients reuse their
 * connections, and retry exactly once what HTTP lets a client retry (an idempotent request on
 * a reused connection closed before any answer); a failure on a fresh connection is not retried.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { probe, retryable } from '../../../src/verify/probe.js';

let server: Server;
let port: number;
/** Per connection, the request number at which the server drops the connection unanswered. */
let dropAt: (connection: number) => number | undefined;
let connections = 0;
const seen: { connection: number; n: number; token?: string }[] = [];

beforeEach(async () => {
  connections = 0;
  seen.length = 0;
  dropAt = () => undefined;
  server = createServer({ keepAlive: true, keepAliveTimeout: 5000 }, (req, res) => {
    const s = req.socket as typeof req.socket & { hactlId?: number; hactlN?: number };
    s.hactlId ??= ++connections;
    s.hactlN = (s.hactlN ?? 0) + 1;
    seen.push({ connection: s.hactlId, n: s.hactlN, token: req.headers['x-hactl-probe'] as string | undefined });
    if (dropAt(s.hactlId) === s.hactlN) return void s.destroy();
    res.end('ok\n');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
afterEach(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const run = (client: 'new' | 'keepalive', n: number) =>
  probe({
    ip: '127.0.0.1',
    port,
    path: '/',
    ratePerSec: 100,
    durationMs: n * 10,
    client,
    connections: 1,
    headers: { 'X-Hactl-Probe': 't0ken' },
  });

test('keep-alive clients reuse one connection; new clients open one per request; both send the token', async () => {
  const k = await run('keepalive', 5);
  expect(k.every((r) => r.ok && r.client === 'keepalive')).toBe(true);
  expect(new Set(seen.map((s) => s.connection)).size).toBe(1);
  seen.length = 0;
  const n = await run('new', 5);
  expect(n.every((r) => r.ok && r.client === 'new')).toBe(true);
  expect(new Set(seen.map((s) => s.connection)).size).toBe(5);
  expect(seen.every((s) => s.token === 't0ken')).toBe(true);
});

test('a reused connection closed before answering: retried once on a new connection, and the first error kept', async () => {
  dropAt = (c) => (c === 1 ? 3 : undefined);
  const r = await run('keepalive', 5);
  expect(r.map((x) => x.ok)).toEqual([true, true, true, true, true]);
  expect(r.filter((x) => x.retriedAfter).map((x) => [x.seq, x.retriedAfter])).toEqual([[2, 'ECONNRESET']]);
});

test('a fresh connection closed before answering is not retried (HTTP does not allow it)', async () => {
  dropAt = (c) => (c === 1 ? 1 : undefined);
  const r = await run('keepalive', 3);
  expect(r[0]).toMatchObject({ ok: false, error: 'ECONNRESET' });
  expect(r[0].retriedAfter).toBeUndefined();
  expect(retryable({ status: 0, error: 'ECONNRESET', ms: 1, body: '', headers: {}, reusedSocket: false })).toBe(false);
  expect(retryable({ status: 0, error: 'timeout', ms: 1, body: '', headers: {}, reusedSocket: true })).toBe(false);
  expect(retryable({ status: 502, ms: 1, body: '', headers: {}, reusedSocket: true })).toBe(false);
});
