/**
 * The lookups of one burst share a few `sh` processes instead of one spawn from node per host
 * (openssh-config.ts): every host still gets its own `ssh -G` and its own answer, a failing one
 * fails alone with what ssh said, and no OpenSSH client is still told apart. The `ssh` here is a
 * script that answers like `ssh -G` and logs which process started it.
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NoOpenSsh, openSshLookup } from '../../../src/transport/openssh-config.js';

let dir: string;
let fakeSsh: string;
let log: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'hactl-ssh-batch-'));
  log = join(dir, 'log');
  fakeSsh = join(dir, 'ssh');
  // Like ssh -G: the host is the last argument; "bad" fails as ssh does, with a message on stderr.
  writeFileSync(
    fakeSsh,
    `#!/bin/sh\nfor a; do h=$a; done\necho "$PPID $h" >> ${log}\n` +
      `if [ "$h" = bad ]; then echo "ssh: Could not resolve hostname bad" >&2; exit 255; fi\n` +
      `printf 'hostname %s.example\\nuser u-%s\\nport 22\\n' "$h" "$h"\n`,
  );
  chmodSync(fakeSsh, 0o755);
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

test('100 lookups at once: each host its own answer, from at most 8 processes node started', async () => {
  const lookup = openSshLookup({ ssh: fakeSsh, configPath: '/dev/null' });
  const hosts = Array.from({ length: 100 }, (_, i) => `lb${i}`);
  const got = await Promise.all(hosts.map((h) => lookup(h)));
  expect(got.map((c) => [c.hostName, c.user])).toEqual(hosts.map((h) => [`${h}.example`, `u-${h}`]));
  const parents = starters();
  expect(readFileSync(log, 'utf8').trim().split('\n')).toHaveLength(100);
  expect(parents.size).toBeLessThanOrEqual(8);
  expect(parents.has(process.pid)).toBe(false);
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
  expect(starters()).toEqual(new Set([process.pid]));
});

test('no OpenSSH client: every lookup of a burst says so (the built-in reader takes over on that)', async () => {
  const lookup = openSshLookup({ ssh: join(dir, 'no-such-ssh'), configPath: '/dev/null' });
  const got = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => lookup(`x${i}`)));
  for (const r of got) {
    expect(r.status).toBe('rejected');
    expect((r as PromiseRejectedResult).reason).toBeInstanceOf(NoOpenSsh);
  }
});

test('a burst of 2 048 (the most an inventory holds): groups of at most 64, every host answered', async () => {
  const lookup = openSshLookup({ ssh: fakeSsh, configPath: '/dev/null' });
  const hosts = Array.from({ length: 2048 }, (_, i) => `n${i}`);
  const got = await Promise.all(hosts.map((h) => lookup(h)));
  expect(got.every((c, i) => c.hostName === `${hosts[i]}.example`)).toBe(true);
  expect(starters().size).toBe(32);
}, 60_000);
