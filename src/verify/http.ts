/** One HTTP request from the operator machine, on a new connection, with a deadline. */
import { request } from 'node:http';

export interface HttpResult {
  ok: boolean;
  status?: number;
  error?: string;
  ms: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

export function httpGet(opts: {
  ip: string;
  port: number;
  host: string;
  path: string;
  timeoutMs: number;
}): Promise<HttpResult> {
  const started = performance.now();
  return new Promise((resolve) => {
    const done = (r: Omit<HttpResult, 'ms'>) =>
      resolve({ ...r, ms: Math.round((performance.now() - started) * 10) / 10 });
    const req = request(
      {
        host: opts.ip,
        port: opts.port,
        path: opts.path,
        method: 'GET',
        headers: { Host: opts.host, Connection: 'close' },
        agent: false,
        timeout: opts.timeoutMs,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          if (body.length < 4096) body += c;
        });
        res.on('end', () =>
          done({
            ok: (res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 300,
            status: res.statusCode,
            body,
            headers: res.headers,
          }),
        );
        res.on('error', (e) => done({ ok: false, error: e.message, body, headers: {} }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${opts.timeoutMs} ms`)));
    req.on('error', (e) => done({ ok: false, error: e.message, body: '', headers: {} }));
    req.end();
  });
}
