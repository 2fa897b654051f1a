/**
 * The notify script keepalived runs per VRRP event, run by a real sh: an older event never
 * overwrites a newer one, and the operator's hooks get the events after hactl's own write, in
 * order, one at a time, bounded by their timeout, without keepalived waiting for them.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderTemplate } from '../../../src/render/engine.js';
import { quote } from '../../../src/shell/quote.js';
import { waitFor } from '../../../src/util/wait-for.js';

const dir = mkdtempSync(join(tmpdir(), 'hactl-notify-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Hook {
  command?: string;
  webhook?: string;
  timeout?: number;
}

/** The script as deploy renders it, in its own directory; returns a runner. */
function notifyScript(tag: string, hooks: Record<string, Hook> = {}) {
  const base = join(dir, tag);
  mkdirSync(base, { recursive: true });
  const script = join(base, 'notify.sh');
  const context = {
    state_dir: join(base, 'state'),
    cluster: quote('web'),
    node: quote('lb1'),
    hooks: Object.entries(hooks).map(([name, h]) => ({
      name,
      address: quote('10.0.0.100/24'),
      command: quote(h.command ?? ''),
      webhook: quote(h.webhook ?? ''),
      timeout: h.timeout ?? 5,
    })),
  };
  writeFileSync(script, renderTemplate('notify.sh.hbs', context));
  return {
    base,
    state: join(base, 'state'),
    notify: (...args: string[]) => execFileSync('sh', [script, ...args]),
    /** Started without waiting, as keepalived starts them: resolves when that script exits. */
    start: (...args: string[]) =>
      new Promise<void>((resolve) => spawn('sh', [script, ...args], { stdio: 'ignore' }).on('exit', () => resolve())),
  };
}

/** A hook command that appends "<state> <event json>" to a log and flags any overlapping call. */
function recordingHook(base: string, body = ''): string {
  const hook = join(base, 'hook.sh');
  writeFileSync(
    hook,
    [
      '#!/bin/sh',
      `mkdir ${quote(join(base, 'busy'))} 2>/dev/null || echo OVERLAP >> ${quote(join(base, 'hook.log'))}`,
      body,
      `read -r ev; echo "$HACTL_STATE $HACTL_OLD_STATE $ev" >> ${quote(join(base, 'hook.log'))}`,
      `rmdir ${quote(join(base, 'busy'))}`,
    ].join('\n'),
    { mode: 0o755 },
  );
  return hook;
}

const lines = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : []);

describe('the state file', () => {
  const n = notifyScript('state');
  const state = () => readFileSync(join(n.state, 'vip1'), 'utf8').split(' ').slice(0, 2).join(' ');

  test('events in order: the last one wins', () => {
    n.notify('INSTANCE', 'vip1', 'FAULT', '150');
    expect(state()).toBe('FAULT 150');
    n.notify('INSTANCE', 'vip1', 'BACKUP', '150');
    expect(state()).toBe('BACKUP 150');
  });

  test('a script started before the recorded event (a slower, older event) does not overwrite it', () => {
    writeFileSync(join(n.state, '.vip1.seq'), '999999999999 1\n');
    n.notify('INSTANCE', 'vip1', 'FAULT', '150');
    expect(state()).toBe('BACKUP 150');
  });

  test('GROUP events and hostile names are ignored; without hooks nothing is queued', () => {
    n.notify('GROUP', 'g1', 'MASTER', '0');
    n.notify('INSTANCE', '../x', 'MASTER', '0');
    expect(execFileSync('ls', ['-A', n.state], { encoding: 'utf8' }).split('\n').filter(Boolean).sort()).toEqual([
      '.lock',
      '.vip1.seq',
      'vip1',
    ]);
  });
});

describe('hooks', () => {
  test('a command gets each event on stdin after the state write, in order, with the old state', async () => {
    const n = notifyScript('order', {});
    const hook = recordingHook(
      n.base,
      `[ -s ${quote(join(n.state, 'vip1'))} ] || echo NO-STATE-YET >> ${quote(join(n.base, 'hook.log'))}`,
    );
    const m = notifyScript('order', { vip1: { command: hook } });
    for (const s of ['BACKUP', 'MASTER', 'FAULT']) m.notify('INSTANCE', 'vip1', s, '150');
    const log = join(n.base, 'hook.log');
    await waitFor(() => lines(log).length >= 3, { timeoutMs: 5000, what: 'three hook calls' });
    expect(lines(log).map((l) => l.split(' ').slice(0, 2).join(' '))).toEqual([
      'BACKUP ',
      'MASTER BACKUP',
      'FAULT MASTER',
    ]);
    const ev = JSON.parse(lines(log)[1].split(' ').slice(2).join(' ')) as Record<string, unknown>;
    expect(ev).toEqual({
      cluster: 'web',
      vip: 'vip1',
      address: '10.0.0.100/24',
      node: 'lb1',
      old_state: 'BACKUP',
      new_state: 'MASTER',
      priority: 150,
      time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/),
    });
    expect(JSON.parse(lines(log)[0].split(' ').slice(2).join(' '))).toMatchObject({ old_state: null });
  });

  test('events started together: delivered one at a time, oldest first, ending with the newest', async () => {
    const probe = notifyScript('burst');
    // The hook takes a while, so a second drainer running at the same time would overlap it.
    const hook = recordingHook(probe.base, 'i=0; while [ $i -lt 20000 ]; do i=$((i+1)); done');
    const n = notifyScript('burst', { vip1: { command: hook } });
    const sent = ['BACKUP', 'MASTER', 'FAULT', 'BACKUP', 'MASTER', 'FAULT', 'MASTER'];
    const exits: Promise<void>[] = [];
    for (const s of sent) exits.push(n.start('INSTANCE', 'vip1', s, '150'));
    await Promise.all(exits);
    const log = join(n.base, 'hook.log');
    await waitFor(
      () => {
        const l = lines(log);
        return l.length > 0 && l[l.length - 1].startsWith('MASTER ') && !existsSync(join(n.base, 'busy'));
      },
      { timeoutMs: 10_000, what: 'the newest event delivered' },
    );
    const got = lines(log);
    expect(got).not.toContain('OVERLAP');
    // What was delivered is the events in the order they happened, some skipped as superseded.
    let at = 0;
    for (const l of got) {
      const s = l.split(' ')[0];
      while (at < sent.length && sent[at] !== s) at++;
      expect(at).toBeLessThan(sent.length);
      at++;
    }
    expect(readFileSync(join(n.state, 'vip1'), 'utf8')).toMatch(/^MASTER 150 /);
  });

  test('a hook that hangs: keepalived does not wait for it, it is killed after its timeout, the next event follows', async () => {
    const probe = notifyScript('hang');
    const hook = recordingHook(
      probe.base,
      `if [ "$HACTL_STATE" = FAULT ]; then touch ${quote(join(probe.base, 'hung'))}; rmdir ${quote(join(probe.base, 'busy'))}; exec sleep 60; fi`,
    );
    const n = notifyScript('hang', { vip1: { command: hook, timeout: 1 } });
    n.notify('INSTANCE', 'vip1', 'FAULT', '150');
    // The script returned (execFileSync waits for it) with its own state written while the hook hangs.
    expect(readFileSync(join(n.state, 'vip1'), 'utf8')).toMatch(/^FAULT 150 /);
    n.notify('INSTANCE', 'vip1', 'MASTER', '150');
    expect(readFileSync(join(n.state, 'vip1'), 'utf8')).toMatch(/^MASTER 150 /);
    const log = join(n.base, 'hook.log');
    await waitFor(() => lines(log).some((l) => l.startsWith('MASTER ')), {
      timeoutMs: 8000,
      what: 'MASTER delivered after the hung FAULT call was killed',
    });
    expect(existsSync(join(n.base, 'hung'))).toBe(true);
    expect(lines(log).map((l) => l.split(' ')[0])).toEqual(['MASTER']);
  });

  test('a webhook gets the event as a JSON POST; a VIP without hooks queues nothing', async () => {
    const got: { headers: IncomingHttpHeaders; body: string; method?: string }[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        got.push({ headers: req.headers, body, method: req.method });
        res.end('ok');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    try {
      const port = (server.address() as AddressInfo).port;
      const n = notifyScript('webhook', { vip1: { webhook: `http://127.0.0.1:${port}/hook?x=1` } });
      n.notify('INSTANCE', 'vip1', 'MASTER', '150');
      n.notify('INSTANCE', 'vip2', 'MASTER', '100');
      await waitFor(() => got.length >= 1, { timeoutMs: 5000, what: 'the webhook call' });
      expect(got[0].method).toBe('POST');
      expect(got[0].headers['content-type']).toBe('application/json');
      expect(JSON.parse(got[0].body)).toMatchObject({ vip: 'vip1', new_state: 'MASTER', node: 'lb1' });
      expect(existsSync(join(n.state, '.hooks', 'vip2'))).toBe(false);
      expect(readFileSync(join(n.state, 'vip2'), 'utf8')).toMatch(/^MASTER 100 /);
    } finally {
      server.close();
    }
  });

  test('a state that is not a keepalived word is written for status but never handed to a hook', async () => {
    const probe = notifyScript('hostile');
    const hook = recordingHook(probe.base);
    const n = notifyScript('hostile', { vip1: { command: hook } });
    n.notify('INSTANCE', 'vip1', 'MASTER";rm -rf /', '1');
    n.notify('INSTANCE', 'vip1', 'BACKUP', '1');
    await waitFor(() => lines(join(n.base, 'hook.log')).length >= 1, { timeoutMs: 5000, what: 'the BACKUP call' });
    expect(lines(join(n.base, 'hook.log')).map((l) => l.split(' ')[0])).toEqual(['BACKUP']);
  });
});
