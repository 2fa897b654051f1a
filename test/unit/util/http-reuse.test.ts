/**
 * Keep-alive clients against a real node HTTP server: which requests went out on a connection
 * an earlier request used. That decides what HTTP lets a client retry (issue 14 §5), so it must
 * hold also for a request that waited in the agent's queue and got the connection its
 * predecessor freed, where Node's own `req.reusedSocket` says false.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { httpClientOn, keepAliveAgent, type HttpResult } from '../../../src/util/http.js';
import { retryable } from '../../../src/verify/probe.js';

let server: Server;
let port: number;
/** Set by a test: the server answers, then closes the connection at once (a reload's idle close). */
let closeAfterAnswer = false;

beforeAll(async () => {
  server = createServer((req, res) => {
    res.end('ok\n');
    if (closeAfterAnswer) res.once('finish', () => req.socket.end());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  port = (server.address() as AddressInfo).port;
});

afterAll(() => new Promise<void>((r) => server.close(() => r())));

const target = () => ({ ip: '127.0.0.1', port, host: 'www.example.com', path: '/', timeoutMs: 2000 });

it('a queued request handed the connection its predecessor freed counts as reused', async () => {
  closeAfterAnswer = false;
  const agent = keepAliveAgent(1);
  const http = httpClientOn(agent);
  try {
    // Two closed loops on one connection: every request after the first waits in the queue.
    const results: HttpResult[] = [];
    const loop = async () => {
      for (let i = 0; i < 20; i++) results.push(await http(target()));
    };
    await Promise.all([loop(), loop()]);
    expect(results.every((r) => r.status === 200)).toBe(true);
    expect(results.filter((r) => r.reusedSocket).length).toBe(39);
  } finally {
    agent.destroy();
  }
});

it('a request on a connection the server closed before answering is reused, hence retryable', async () => {
  closeAfterAnswer = true;
  const agent = keepAliveAgent(1);
  const http = httpClientOn(agent);
  try {
    // The second request is written at once behind the first, on the connection the server
    // closes after its first answer: it gets no answer (reset or EPIPE) and must be retryable.
    const [a, b] = await Promise.all([http(target()), http(target())]);
    expect(a.status).toBe(200);
    if (b.status === 200) {
      // The agent saw the close before writing and opened a new connection: a fresh one.
      expect(b.reusedSocket).toBe(false);
    } else {
      expect({ reused: b.reusedSocket, retryable: retryable(b) }).toEqual({ reused: true, retryable: true });
    }
  } finally {
    agent.destroy();
    closeAfterAnswer = false;
  }
});
