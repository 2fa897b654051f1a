/**
 * The sub-second nginx check (health_check.interval below 1, as vrrp.profile fast sets): the
 * rendered script, run by a real sh against a real HTTP server on loopback, probes within its
 * run, ends before keepalived's next run is due while nginx answers, and fails at the first
 * failed probe. Bounds here are behaviour (the run ends, a dead server fails the run early), not
 * speed figures: those are the benchmark's.
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { readFileSync } from 'node:fs';
import { fixturePath, loadText } from '../../helpers/inventory.js';
import { renderHost } from '../../../src/render/render.js';
import { HOST_PATHS as PATHS } from '../../../src/remote/paths.js';

const BASE = readFileSync(fixturePath('active-passive.yaml'), 'utf8');

function script(port: number, healthCheck: object): string {
  const doc = parseDocument(BASE);
  doc.setIn(['clusters', 0, 'nginx_status_port'], port);
  doc.setIn(['clusters', 0, 'health_check'], doc.createNode(healthCheck));
  const r = loadText(doc.toString());
  if (!r.inventory) throw new Error(JSON.stringify(r.problems, null, 2));
  const c = r.inventory.clusters[0];
  return renderHost(c, c.lbs[0], {}).files.find((f) => f.path.endsWith('check-nginx.sh'))!.content;
}

let dir: string;
let server: Server;
let port: number;
let hits = 0;
/** After this many requests the server stops answering (closes each connection at once). */
let dieAfter = Infinity;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hactl-check-'));
  server = createServer((req, res) => {
    hits++;
    if (hits > dieAfter) {
      req.socket.destroy();
      return;
    }
    res.end('ok');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await new Promise((r) => server.close(r));
});
beforeEach(() => {
  hits = 0;
  dieAfter = Infinity;
});

/**
 * The marker (HOST_PATHS.checkFirstRun) names the keepalived that ran the script last, here the
 * spawning process: `seeded` names it (a later run), `absent` has no file (the first run under a
 * new keepalived).
 */
let runs = 0;
function run(text: string, marker: 'seeded' | 'absent' = 'seeded'): Promise<{ code: number | null; ms: number }> {
  const n = ++runs;
  const file = join(dir, `check-${n}.sh`);
  const markerFile = join(dir, `pid-${n}`);
  if (marker === 'seeded') writeFileSync(markerFile, `${process.pid}\n`);
  writeFileSync(file, text.replaceAll(PATHS.checkFirstRun, markerFile));
  chmodSync(file, 0o755);
  const t0 = performance.now();
  return new Promise((resolve) => {
    const child = spawn('sh', [file], { stdio: 'ignore' });
    child.on('close', (code) => resolve({ code, ms: performance.now() - t0 }));
  });
}

describe('the sub-second check', () => {
  test('nginx answering: several probes in one run, exit 0 before the next run is due', async () => {
    const r = await run(script(port, { interval: 0.1 }));
    expect(r.code).toBe(0);
    expect(hits).toBeGreaterThanOrEqual(4);
    // It ends itself near 0.9 s (keepalived starts the next run a second after this one); the
    // slack is for a loaded machine, and a run that overran would only make keepalived skip one.
    expect(r.ms).toBeLessThan(1300);
  });

  test('nginx stops answering mid-run: the run fails at that probe, not at its end', async () => {
    dieAfter = 2;
    const r = await run(script(port, { interval: 0.1 }));
    expect(r.code).not.toBe(0);
    expect(hits).toBe(3);
  });

  test('nothing listening: the first probe fails the run', async () => {
    const closed = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const r = await run(script(closed, { interval: 0.1 }));
    expect(r.code).not.toBe(0);
  });

  test('the first run under a keepalived process answers after one probe (its election waits for it)', async () => {
    const text = script(port, { interval: 0.1 });
    expect(text).toContain(PATHS.checkFirstRun);
    const first = await run(text, 'absent');
    expect(first.code).toBe(0);
    expect(hits).toBe(1);
    expect(first.ms).toBeLessThan(500);
    const later = await run(text, 'seeded');
    expect(later.code).toBe(0);
    expect(hits).toBeGreaterThanOrEqual(5);
  });

  test('the first run fails like the others when nginx does not answer', async () => {
    dieAfter = 0;
    const r = await run(script(port, { interval: 0.1 }), 'absent');
    expect(r.code).not.toBe(0);
    expect(hits).toBe(1);
  });

  test('an interval of 1 s or more stays a single probe per keepalived run', async () => {
    const text = script(port, { interval: 2 });
    expect(text).not.toContain('sleep');
    expect(text).not.toContain(PATHS.checkFirstRun);
    const r = await run(text);
    expect(r.code).toBe(0);
    expect(hits).toBe(1);
  });
});
