/**
 * The lookups of one burst share one `sh` instead of one spawn from node per host
 * (openssh-config.ts): every host still gets its own `ssh -G` and its own answer, a failing one
 * fails alone with what ssh said, and no OpenSSH client is still told apart. The `ssh` here is a
 * script that answers like `ssh -G` and logs its ancestors (the processes above it, up to the
 * test's own), so a test can tell which process node started for it.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NoOpenSsh, openSshLookup } from '../../../src/transport/openssh-config.js';

let dir: string;
let fakeSsh: string;
let quickSsh: string;
let log: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'hactl-ssh-batch-'));
  log = join(dir, 'log');
  fakeSsh = join(dir, 'ssh');
  // Like ssh -G: the host is the last argument; "bad" fails as ssh does, with a message on stderr.
  writeFileSync(
    fakeSsh,
    `#!/bin/sh\nfor a; do h=$a; done\n` +
      // The ancestor just below node: the process node spawned for this lookup.
      `p=$PPID; s=$$; while [ "$p" -gt 1 ] && [ "$p" != ${process.pid} ]; do s=$p; p=$(ps -o ppid= -p "$p" | tr -d ' '); done\n` +
      `echo "$s $$ $h" >> ${log}\n` +
      `if [ "$h" = bad ]; then echo "ssh: Could not resolve hostname bad" >&2; exit 255; fi\n` +
      `printf 'hostname %s.example\\nuser u-%s\\nport 22\\n' "$h" "$h"\n`,
  );
  chmodSync(fakeSsh, 0o755);
  // The same answers without the ancestry walk (a few ps runs per lookup), for the big burst.
  quickSsh = join(dir, 'quick-ssh');
  writeFileSync(
    quickSsh,
    `#!/bin/sh\nfor a; do h=$a; done\necho "$h" >> ${log}\nprintf 'hostname %s.example\\nport 22\\n' "$h"\n`,
  );
  chmodSync(quickSsh, 0o755);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
beforeEach(() => writeFileSync(log, ''));

const starters = () =>
  new Set(
    readFileSync(log, 'utf8')
      .trim()
      .split('\n')
      .map((l) => Number(l.split(' ')[0])),
  );

test('100 lookups at once: each host its own answer, all from one process node started', async () => {
  const lookup = openSshLookup({ ssh: fakeSsh, configPath: '/dev/null' });
  const hosts = Array.from({ length: 100 }, (_, i) => `lb${i}`);
  const got = await Promise.all(hosts.map((h) => lookup(h)));
  expect(got.map((c) => [c.hostName, c.user])).toEqual(hosts.map((h) => [`${h}.example`, `u-${h}`]));
  const parents = starters();
  expect(readFileSync(log, 'utf8').trim().split('\n')).toHaveLength(100);
  expect(parents.size).toBe(1);
  expect(readFileSync(log, 'utf8').includes(`${[...parents][0]} ${[...parents][0]} `)).toBe(false);
  // Asked again: the cache answers, nothing runs.
  writeFileSync(log, '');
  await lookup('lb7');
  expect(readFileSync(log, 'utf8')).toBe('');
});

test('one failing host in a burst fails alone, with what ssh said; the others answer', async () => {
  const lookup = openSshLookup({ ssh: fakeSsh, configPath: '/dev/null' });
  const hosts = Array.from({ length: 30 }, (_, i) => (i === 13 ? 'bad' : `h${i}`));
  const got = await Promise.allSettled(hosts.map((h) => lookup(h)));
  expect(got.filter((r) => r.status === 'rejected')).toEqual([
    { status: 'rejected', reason: new Error('ssh -G bad: ssh: Could not resolve hostname bad') },
  ]);
  expect(got.filter((r) => r.status === 'fulfilled')).toHaveLength(29);
});

test('a lone lookup runs ssh itself, as before', async () => {
  const lookup = openSshLookup({ ssh: fakeSsh, configPath: '/dev/null' });
  expect((await lookup('solo')).hostName).toBe('solo.example');
  // The process node started is the ssh itself.
  const [started, self] = readFileSync(log, 'utf8').trim().split(' ');
  expect(started).toBe(self);
});

test('no OpenSSH client: every lookup of a burst says so (the built-in reader takes over on that)', async () => {
  const lookup = openSshLookup({ ssh: join(dir, 'no-such-ssh'), configPath: '/dev/null' });
  const got = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => lookup(`x${i}`)));
  for (const r of got) {
    expect(r.status).toBe('rejected');
    expect((r as PromiseRejectedResult).reason).toBeInstanceOf(NoOpenSsh);
  }
});

test('a burst of 2 048 (the most an inventory holds): one sh (its script on stdin), every host answered', async () => {
  const lookup = openSshLookup({ ssh: quickSsh, configPath: '/dev/null' });
  const hosts = Array.from({ length: 2048 }, (_, i) => `n${i}`);
  const got = await Promise.all(hosts.map((h) => lookup(h)));
  expect(got.every((c, i) => c.hostName === `${hosts[i]}.example`)).toBe(true);
  expect(new Set(readFileSync(log, 'utf8').trim().split('\n')).size).toBe(2048);
}, 60_000);
