/**
 * The alive check (health_check.alive_interval, issue 15): a second vrrp_script that connects to
 * nginx's status port within each one-second run and fails at the first refused connect, so a
 * dead nginx gives up the VIP without waiting for the HTTP check's fall. What the defaults are,
 * where lint refuses it, the failover bound it gives, what keepalived.conf gets (keepalived -t
 * accepts it), and the rendered script run by a real bash against real listeners.
 */
import { spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { fixturePath, loadText } from '../../helpers/inventory.js';
import { keepalivedCheck } from '../../helpers/validators.js';
import { renderHost } from '../../../src/render/render.js';
import { promisedFailoverSeconds } from '../../../src/inventory/vrrp-math.js';
import { HOST_PATHS as PATHS } from '../../../src/remote/paths.js';

const BASE = readFileSync(fixturePath('active-passive.yaml'), 'utf8');

function withHealth(healthCheck?: object, port?: number): string {
  const doc = parseDocument(BASE);
  if (healthCheck) doc.setIn(['clusters', 0, 'health_check'], doc.createNode(healthCheck));
  if (port) doc.setIn(['clusters', 0, 'nginx_status_port'], port);
  return doc.toString();
}
const errors = (text: string) => loadText(text).problems.filter((p) => p.severity === 'error');
function cluster(text: string) {
  const r = loadText(text);
  if (!r.inventory) throw new Error(JSON.stringify(r.problems, null, 2));
  return r.inventory.clusters[0];
}
const rendered = (text: string) => {
  const c = cluster(text);
  return renderHost(c, c.lbs[0], {});
};
const fileOf = (text: string, suffix: string) => rendered(text).files.find((f) => f.path.endsWith(suffix));

describe('defaults', () => {
  test('the default check: HTTP with fall 2, and the alive check every 0.1 s', () => {
    expect(cluster(BASE).healthCheck).toEqual(expect.objectContaining({ mode: 'script', fall: 2, aliveInterval: 0.1 }));
  });

  test.each([
    ['a weight', { weight: -60 }],
    ['mode process', { mode: 'process' }],
    ['mode none', { mode: 'none' }],
    ['a sub-second HTTP check', { interval: 0.2 }],
  ])('none with %s, and no alive script rendered', (_, hc) => {
    const text = withHealth(hc);
    expect(cluster(text).healthCheck.aliveInterval).toBe(0);
    expect(fileOf(text, 'nginx-alive.sh')).toBeUndefined();
    expect(fileOf(text, 'keepalived.conf')!.content).not.toContain('hactl_nginx_alive');
  });

  test('with mode both it goes beside track_process', () => {
    const conf = fileOf(withHealth({ mode: 'both' }), 'keepalived.conf')!.content;
    expect(conf).toContain('vrrp_track_process');
    expect(conf).toMatch(/track_script \{\s+hactl_check_nginx\s+hactl_nginx_alive\s+\}/);
  });
});

describe('lint', () => {
  test.each([
    [{ alive_interval: 0.03 }, '0.05 to 0.9'],
    [{ alive_interval: 0.123 }, 'in hundredths'],
    [{ alive_interval: 0.1, mode: 'process' }, 'mode process has none'],
    [{ alive_interval: 0.1, weight: -60 }, 'count against the priority twice'],
  ])('%j is refused at health_check.alive_interval', (hc, words) => {
    const e = errors(withHealth(hc));
    expect(e).toEqual([
      expect.objectContaining({
        path: 'clusters[0].health_check.alive_interval',
        message: expect.stringContaining(words),
        fix: expect.any(String),
      }),
    ]);
  });

  test('above 0.9 it is a schema error on the field', () => {
    expect(errors(withHealth({ alive_interval: 1.5 }))[0]).toEqual(
      expect.objectContaining({ path: expect.stringContaining('clusters[0].health_check.alive_interval') }),
    );
  });

  test('0 turns it off, and an explicit interval is kept', () => {
    expect(cluster(withHealth({ alive_interval: 0 })).healthCheck.aliveInterval).toBe(0);
    expect(cluster(withHealth({ alive_interval: 0.25 })).healthCheck.aliveInterval).toBe(0.25);
  });
});

describe('keepalived.conf and the failover bound', () => {
  test('a second vrrp_script, once a second (whole seconds), fall 1, FAULT, tracked by every VIP', () => {
    const conf = fileOf(BASE, 'keepalived.conf')!.content;
    const block = /vrrp_script hactl_nginx_alive \{([^}]*)\}/.exec(conf)?.[1] ?? '';
    expect(block).toContain('script "/etc/keepalived/hactl-nginx-alive.sh"');
    expect(block).toMatch(/interval 1\n\s+timeout 2\n\s+fall 1\n\s+rise 2\n\s+weight 0/);
    expect(/vrrp_script hactl_check_nginx \{([^}]*)\}/.exec(conf)?.[1]).toMatch(/fall 2/);
    expect(conf).toMatch(/track_script \{\s+hactl_check_nginx\s+hactl_nginx_alive\s+\}/);
    expect(fileOf(BASE, 'nginx-alive.sh')).toEqual(expect.objectContaining({ mode: '0755', service: 'keepalived' }));
  });

  test("this machine's keepalived -t accepts it", () => {
    expect(keepalivedCheck(renderHost(cluster(BASE), cluster(BASE).lbs[0], { keepalived: '2.2.7' }))).toEqual(
      expect.objectContaining({ ok: true }),
    );
  });

  test('nginx death: the gap between runs and one connect, then the skew, not fall × interval', () => {
    const hc = cluster(BASE).healthCheck;
    const b = promisedFailoverSeconds('nginx-death', hc, 1, 100);
    // 1 − (0.95 − 0.05) s between runs, 0.1 s between connects, a connect; then (256 − 100)/256 s.
    expect(b.seconds).toBeCloseTo(0.1 + 0.1 + 0.05 + 156 / 256, 3);
    expect(b.formula).toContain('alive check every 0.1s');
    // Without it the default HTTP check (fall 2) would take 2 s to notice.
    expect(promisedFailoverSeconds('nginx-death', { ...hc, aliveInterval: 0 }, 1, 100).seconds).toBeCloseTo(
      2 + 156 / 256,
      3,
    );
  });
});

describe('the rendered script, run by bash', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'hactl-alive-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const listener = async (onConnect: (s: Socket) => void = (s) => s.end()) => {
    let connects = 0;
    const server: Server = createServer((s) => {
      connects++;
      onConnect(s);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return {
      server,
      port: (server.address() as AddressInfo).port,
      connects: () => connects,
      close: () => new Promise<void>((r) => server.close(() => r())),
    };
  };
  const freePort = async () => {
    const l = await listener();
    await l.close();
    return l.port;
  };
  /**
   * The marker (HOST_PATHS.aliveFirstRun) names the keepalived that ran the script last: the
   * spawning process here. `seeded` names this process (a later run), `absent` has no file (the
   * first run under a new keepalived), `other` names another pid (keepalived restarted since),
   * `unwritable` sits in a directory that does not exist.
   */
  type Marker = 'seeded' | 'absent' | 'other' | 'unwritable';
  let runs = 0;
  function run(port: number, marker: Marker = 'seeded'): Promise<{ code: number | null; ms: number; file: string }> {
    const n = ++runs;
    const file = join(dir, `alive-${n}.sh`);
    const markerFile = marker === 'unwritable' ? join(dir, 'missing', `pid-${n}`) : join(dir, `pid-${n}`);
    if (marker === 'seeded') writeFileSync(markerFile, `${process.pid}\n`);
    if (marker === 'other') writeFileSync(markerFile, '1\n');
    const text = fileOf(withHealth(undefined, port), 'nginx-alive.sh')!.content;
    expect(text).toContain(PATHS.aliveFirstRun);
    writeFileSync(file, text.replaceAll(PATHS.aliveFirstRun, markerFile));
    chmodSync(file, 0o755);
    const t0 = performance.now();
    return new Promise((resolve) => {
      // As keepalived runs it: by its #! line, so its parent is the process that started it.
      const child = spawn(file, [], { stdio: 'ignore' });
      child.on('close', (code) => resolve({ code, ms: performance.now() - t0, file: markerFile }));
    });
  }

  test('starts no process per connect or sleep: no curl, no sleep, bash builtins only', () => {
    const text = fileOf(BASE, 'nginx-alive.sh')!.content;
    expect(text.split('\n')[0]).toBe('#!/bin/bash');
    const code = text.split('\n').filter((l) => !l.startsWith('#'));
    expect(code.join('\n')).not.toMatch(/\b(curl|sleep|nc|date)\b/);
  });

  test('nginx listening: connects every 0.1 s, exits 0 before the next run is due', async () => {
    const l = await listener();
    try {
      const r = await run(l.port);
      expect(r.code).toBe(0);
      expect(l.connects()).toBeGreaterThanOrEqual(5);
      // It ends itself near 0.9 s; the slack is for a loaded machine (keepalived's timeout is 2 s).
      expect(r.ms).toBeLessThan(1500);
    } finally {
      await l.close();
    }
  });

  test('nothing listening: the first connect is refused and the run fails, long before its end', async () => {
    const r = await run(await freePort());
    expect(r.code).toBe(1);
    expect(r.ms).toBeLessThan(600);
  });

  test('nginx dies mid-run: the run fails at the next connect', async () => {
    let closing: Promise<void> | undefined;
    const l = await listener((s) => {
      s.end();
      if (l.connects() === 3) closing = l.close();
    });
    const r = await run(l.port);
    await closing;
    expect(r.code).toBe(1);
    expect(l.connects()).toBe(3);
  });

  test('a hung nginx still accepts: the alive check passes it (that is the HTTP check with its fall)', async () => {
    const held: Socket[] = [];
    const l = await listener((s) => held.push(s));
    try {
      const r = await run(l.port);
      expect(r.code).toBe(0);
      expect(l.connects()).toBeGreaterThanOrEqual(5);
    } finally {
      held.forEach((s) => s.destroy());
      await l.close();
    }
  });

  describe('the first run under a keepalived process (its election waits for this answer)', () => {
    test('answers after one connect, and names that keepalived for the runs after it, which loop', async () => {
      const l = await listener();
      try {
        const first = await run(l.port, 'absent');
        expect(first.code).toBe(0);
        expect(l.connects()).toBe(1);
        expect(first.ms).toBeLessThan(500);
        expect(readFileSync(first.file, 'utf8').trim()).toBe(String(process.pid));
        // The next run of the same keepalived finds itself named, and probes the whole second.
        const later = await run(l.port, 'seeded');
        expect(later.code).toBe(0);
        expect(l.connects()).toBeGreaterThanOrEqual(6);
      } finally {
        await l.close();
      }
    });

    test('a file naming another keepalived (restarted since) is a first run too', async () => {
      const l = await listener();
      try {
        const r = await run(l.port, 'other');
        expect(r.code).toBe(0);
        expect(l.connects()).toBe(1);
        expect(readFileSync(r.file, 'utf8').trim()).toBe(String(process.pid));
      } finally {
        await l.close();
      }
    });

    test('nothing listening on the first run: it fails at once', async () => {
      const r = await run(await freePort(), 'absent');
      expect(r.code).toBe(1);
    });

    test('where the file cannot be written, every run loops (detection stays every 0.1 s)', async () => {
      const l = await listener();
      try {
        const r = await run(l.port, 'unwritable');
        expect(r.code).toBe(0);
        expect(l.connects()).toBeGreaterThanOrEqual(5);
      } finally {
        await l.close();
      }
    });
  });
});
