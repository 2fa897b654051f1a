import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  appendHostKey,
  checkHostKey,
  createHostVerifier,
  decideHostKey,
  fingerprint,
  formatKnownHostsLine,
  hostKeyAlgorithms,
  hostKeyName,
  keyTypeOf,
  knownKeyTypes,
  matchPattern,
  matchPatternList,
  parseKnownHosts,
} from '../../../src/transport/known-hosts.js';
import { TransportError } from '../../../src/transport/transport.js';

let dir: string;
const keys: Record<string, { pub: string; blob: Buffer; line: string; file: string }> = {};

function makeKey(name: string, type: string) {
  const file = join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-C', name, '-f', file]);
  const line = readFileSync(`${file}.pub`, 'utf8').trim();
  const [t, b64] = line.split(' ');
  keys[name] = { pub: `${t} ${b64}`, blob: Buffer.from(b64, 'base64'), line, file: `${file}.pub` };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'hactl-kh-'));
  makeKey('a', 'ed25519');
  makeKey('b', 'ed25519');
  makeKey('e', 'ecdsa');
  makeKey('r', 'rsa');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const verify = (v: ReturnType<typeof createHostVerifier>, key: Buffer) =>
  new Promise<boolean>((resolve) => v.hostVerifier(key, resolve));

describe('fingerprints and key types', () => {
  test.each(['a', 'e', 'r'])('fingerprint of %s equals ssh-keygen -lf', (name) => {
    const printed = execFileSync('ssh-keygen', ['-lf', keys[name].file], { encoding: 'utf8' }).split(' ')[1];
    expect(printed).toMatch(/^SHA256:[A-Za-z0-9+/]{43}$/);
    expect(fingerprint(keys[name].blob)).toBe(printed);
  });

  test('key type is read from the blob', () => {
    expect(keyTypeOf(keys.a.blob)).toBe('ssh-ed25519');
    expect(keyTypeOf(keys.e.blob)).toBe('ecdsa-sha2-nistp256');
    expect(keyTypeOf(keys.r.blob)).toBe('ssh-rsa');
    expect(() => keyTypeOf(Buffer.from([0, 0, 0, 200, 1]))).toThrow(/malformed/);
  });

  test('host names: plain on port 22, [host]:port otherwise, lower-cased', () => {
    expect(hostKeyName('LB1.Example.com', 22)).toBe('lb1.example.com');
    expect(hostKeyName('10.0.0.1', 2222)).toBe('[10.0.0.1]:2222');
  });
});

describe('parsing', () => {
  test('plain entries, comments, blank lines, markers; invalid lines skipped', () => {
    const text = [
      '# a comment',
      '',
      `lb1,10.0.0.1 ${keys.a.pub} operator@laptop`,
      `   [lb2]:2222 ${keys.b.pub}`,
      `@revoked * ${keys.e.pub}`,
      `@cert-authority *.example.com ${keys.r.pub}`,
      `@bogus lb3 ${keys.a.pub}`,
      'lb4 ssh-ed25519 not-base64!!',
      `lb5 ssh-rsa ${keys.a.pub.split(' ')[1]}`, // type does not match the blob
      'lb6',
    ].join('\n');
    const entries = parseKnownHosts(text);
    expect(entries.map((e) => [e.line, e.marker, e.patterns, e.keyType])).toEqual([
      [3, undefined, ['lb1', '10.0.0.1'], 'ssh-ed25519'],
      [4, undefined, ['[lb2]:2222'], 'ssh-ed25519'],
      [5, 'revoked', ['*'], 'ecdsa-sha2-nistp256'],
      [6, 'cert-authority', ['*.example.com'], 'ssh-rsa'],
    ]);
    expect(entries[0].keyBlob.equals(keys.a.blob)).toBe(true);
  });

  test('wildcards * and ?, case-insensitive', () => {
    expect(matchPattern('*.example.com', 'lb1.example.com')).toBe(true);
    expect(matchPattern('*.example.com', 'example.com')).toBe(false);
    expect(matchPattern('10.0.0.?', '10.0.0.7')).toBe(true);
    expect(matchPattern('10.0.0.?', '10.0.0.17')).toBe(false);
    expect(matchPattern('LB1', 'lb1')).toBe(true);
    expect(matchPattern('lb.', 'lbx')).toBe(false); // '.' is literal
    expect(matchPattern('[10.0.0.*]:2222', '[10.0.0.5]:2222')).toBe(true);
  });

  test('negation excludes, even when a positive pattern matches', () => {
    const list = ['*.example.com', '!bad.example.com'];
    expect(matchPatternList(list, 'good.example.com')).toBe(true);
    expect(matchPatternList(list, 'bad.example.com')).toBe(false);
    expect(matchPatternList(['!bad.example.com'], 'other.example.com')).toBe(false);
  });
});

describe('decisions', () => {
  const F = '/kh';
  test('match, unknown and changed for plain entries', () => {
    const text = `lb1,10.0.0.1 ${keys.a.pub}\n`;
    expect(decideHostKey(F, text, 'lb1', 22, keys.a.blob).status).toBe('match');
    expect(decideHostKey(F, text, '10.0.0.1', 22, keys.a.blob).status).toBe('match');
    expect(decideHostKey(F, text, 'lb9', 22, keys.a.blob).status).toBe('unknown');
    const changed = decideHostKey(F, text, 'lb1', 22, keys.b.blob);
    expect(changed.status).toBe('changed');
    expect(changed.knownFingerprints).toEqual([fingerprint(keys.a.blob)]);
    expect(changed.known[0]).toMatchObject({ file: F, line: 1, keyType: 'ssh-ed25519' });
  });

  test('[host]:port entries apply to that port only', () => {
    const text = `[lb1]:2222 ${keys.a.pub}\n`;
    expect(decideHostKey(F, text, 'lb1', 2222, keys.a.blob).status).toBe('match');
    expect(decideHostKey(F, text, 'lb1', 22, keys.a.blob).status).toBe('unknown');
    expect(decideHostKey(F, text, 'lb1', 2223, keys.a.blob).status).toBe('unknown');
    expect(decideHostKey(F, `lb1 ${keys.a.pub}\n`, 'lb1', 2222, keys.a.blob).status).toBe('unknown');
  });

  test('wildcard and negated entries', () => {
    const text = `*.example.com,!bad.example.com ${keys.a.pub}\n`;
    expect(decideHostKey(F, text, 'lb1.example.com', 22, keys.a.blob).status).toBe('match');
    expect(decideHostKey(F, text, 'bad.example.com', 22, keys.a.blob).status).toBe('unknown');
  });

  test('hashed entries written by ssh-keygen -H are understood', () => {
    const file = join(dir, 'hashed_known_hosts');
    writeFileSync(file, `lb1 ${keys.a.pub}\n[10.0.0.2]:2222 ${keys.b.pub}\n`);
    execFileSync('ssh-keygen', ['-q', '-H', '-f', file], { stdio: 'ignore' });
    const text = readFileSync(file, 'utf8');
    expect(text).not.toContain('lb1');
    expect(parseKnownHosts(text).every((e) => e.hashed)).toBe(true);
    expect(decideHostKey(file, text, 'lb1', 22, keys.a.blob).status).toBe('match');
    expect(decideHostKey(file, text, '10.0.0.2', 2222, keys.b.blob).status).toBe('match');
    expect(decideHostKey(file, text, '10.0.0.2', 2222, keys.a.blob).status).toBe('changed');
    expect(decideHostKey(file, text, 'lb2', 22, keys.a.blob).status).toBe('unknown');
  });

  test('our hashed lines are found by ssh-keygen -F', () => {
    const file = join(dir, 'ours');
    writeFileSync(
      file,
      formatKnownHostsLine('10.0.0.3', 2200, keys.e.blob, true) + formatKnownHostsLine('lb7', 22, keys.a.blob, false),
    );
    expect(execFileSync('ssh-keygen', ['-F', '[10.0.0.3]:2200', '-f', file], { encoding: 'utf8' })).toContain(
      'ecdsa-sha2-nistp256',
    );
    expect(execFileSync('ssh-keygen', ['-F', 'lb7', '-f', file], { encoding: 'utf8' })).toContain('lb7 ssh-ed25519');
  });

  test('@revoked refuses even a key that is also listed; @cert-authority is ignored', () => {
    const text = `lb1 ${keys.a.pub}\n@revoked * ${keys.a.pub}\n@cert-authority lb2 ${keys.b.pub}\n`;
    const r = decideHostKey(F, text, 'lb1', 22, keys.a.blob);
    expect(r.status).toBe('revoked');
    expect(r.known[0].line).toBe(2);
    expect(decideHostKey(F, text, 'lb2', 22, keys.b.blob).status).toBe('unknown');
  });

  test('known keys of another type only: changed (stricter than OpenSSH)', () => {
    expect(decideHostKey(F, `lb1 ${keys.e.pub}\n`, 'lb1', 22, keys.a.blob).status).toBe('changed');
  });

  test('host key algorithms prefer the known types', async () => {
    expect(hostKeyAlgorithms([])[0]).toBe('ssh-ed25519');
    expect(hostKeyAlgorithms(['ssh-rsa']).slice(0, 3)).toEqual(['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa']);
    expect(hostKeyAlgorithms(['ecdsa-sha2-nistp256'])[0]).toBe('ecdsa-sha2-nistp256');
    expect(hostKeyAlgorithms(['ssh-rsa'])).toHaveLength(7);
    const file = join(dir, 'types');
    writeFileSync(file, `lb1 ${keys.e.pub}\n@revoked lb1 ${keys.r.pub}\n`);
    expect(await knownKeyTypes(file, 'lb1', 22)).toEqual(['ecdsa-sha2-nistp256']);
  });
});

describe('files and policy', () => {
  test('checkHostKey: a missing file is empty; a directory fails closed', async () => {
    expect((await checkHostKey(join(dir, 'nope'), 'lb1', 22, keys.a.blob)).status).toBe('unknown');
    await expect(checkHostKey(dir, 'lb1', 22, keys.a.blob)).rejects.toMatchObject({ code: 'EISDIR' });
  });

  test('read once per content: a change by anyone (another process, an edit) is seen by the next check', async () => {
    const file = join(dir, 'changing');
    writeFileSync(file, `lb1 ${keys.a.pub}\n`);
    expect((await checkHostKey(file, 'lb1', 22, keys.b.blob)).status).toBe('changed');
    expect(await knownKeyTypes(file, 'lb1', 22)).toEqual(['ssh-ed25519']);
    // The same length, another key: not a cached answer.
    writeFileSync(file, `lb1 ${keys.b.pub}\n`);
    expect((await checkHostKey(file, 'lb1', 22, keys.b.blob)).status).toBe('match');
    writeFileSync(file, `lb1 ${keys.b.pub}\nlb2 ${keys.e.pub}\n`);
    expect(await knownKeyTypes(file, 'lb2', 22)).toEqual(['ecdsa-sha2-nistp256']);
    rmSync(file);
    expect((await checkHostKey(file, 'lb1', 22, keys.b.blob)).status).toBe('unknown');
  });

  test('one read for the hosts that ask at once: a file that can be read only once answers them all', async () => {
    // A FIFO gives its content to one reader; a second read gets nothing. The hosts of a run
    // ask together, before any read is back, so they must share the first.
    const file = join(dir, 'fifo');
    execFileSync('mkfifo', [file]);
    const asks = Promise.all(['lb1', 'lb1', 'lb1'].map((h) => knownKeyTypes(file, h, 22)));
    // Written from the thread pool: opening a FIFO waits for the other end.
    await writeFile(file, `lb1 ${keys.a.pub}\n`);
    expect(await asks).toEqual([['ssh-ed25519'], ['ssh-ed25519'], ['ssh-ed25519']]);
    rmSync(file);
  });

  test('accept-new appends a hashed line, creating dir 0700 and file 0600; no duplicates', async () => {
    const file = join(dir, 'new', 'sub', 'known_hosts');
    const results = await Promise.all([1, 2, 3].map(() => appendHostKey(file, '10.0.0.9', 2222, keys.a.blob)));
    expect(results.map((r) => r.status)).toEqual(['match', 'match', 'match']);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'new', 'sub')).mode & 0o777).toBe(0o700);
    const text = readFileSync(file, 'utf8');
    expect(text.trim().split('\n')).toHaveLength(1);
    expect(text).toMatch(/^\|1\|[A-Za-z0-9+/=]+\|[A-Za-z0-9+/=]+ ssh-ed25519 /);
    expect((await checkHostKey(file, '10.0.0.9', 2222, keys.a.blob)).status).toBe('match');
  });

  test('appending to a file without a final newline keeps lines apart', async () => {
    const file = join(dir, 'nonl');
    writeFileSync(file, `lb1 ${keys.a.pub}`);
    await appendHostKey(file, 'lb2', 22, keys.b.blob, false);
    expect(readFileSync(file, 'utf8')).toBe(`lb1 ${keys.a.pub}\nlb2 ${keys.b.pub}\n`);
  });

  const base = { name: 'lb1', host: '127.0.0.1', port: 2222 };

  test('verifier strict: unknown host refused, nothing written', async () => {
    const file = join(dir, 'strict_kh');
    const v = createHostVerifier({ ...base, knownHosts: file, policy: 'strict' });
    expect(await verify(v, keys.a.blob)).toBe(false);
    const f = v.failure();
    expect(f).toBeInstanceOf(TransportError);
    expect(f).toMatchObject({ kind: 'hostkey', host: 'lb1' });
    expect(f?.message).toContain(fingerprint(keys.a.blob));
    expect(f?.message).toContain('strict');
    expect(() => statSync(file)).toThrow();
  });

  test('verifier accept-new: records, then matches', async () => {
    const file = join(dir, 'accept_kh');
    const v = createHostVerifier({ ...base, knownHosts: file, policy: 'accept-new' });
    expect(await verify(v, keys.a.blob)).toBe(true);
    expect(v.failure()).toBeUndefined();
    const strict = createHostVerifier({ ...base, knownHosts: file, policy: 'strict' });
    expect(await verify(strict, keys.a.blob)).toBe(true);
  });

  test('verifier: changed key refused under accept-new, both fingerprints, file:line, fix command; file untouched', async () => {
    const file = join(dir, 'changed_kh');
    const before = `# mine\n[127.0.0.1]:2222 ${keys.a.pub}\n`;
    writeFileSync(file, before);
    const v = createHostVerifier({ ...base, knownHosts: file, policy: 'accept-new' });
    expect(await verify(v, keys.b.blob)).toBe(false);
    const msg = v.failure()?.message ?? '';
    expect(v.failure()?.kind).toBe('hostkey');
    expect(msg).toContain(fingerprint(keys.b.blob));
    expect(msg).toContain(fingerprint(keys.a.blob));
    expect(msg).toContain(`${file}:2`);
    expect(msg).toContain(`ssh-keygen -R '[127.0.0.1]:2222' -f ${file}`);
    expect(readFileSync(file, 'utf8')).toBe(before);
  });

  test('verifier: revoked and unreadable known_hosts fail closed', async () => {
    const file = join(dir, 'revoked_kh');
    writeFileSync(file, `@revoked * ${keys.a.pub}\n`);
    const v = createHostVerifier({ ...base, knownHosts: file, policy: 'accept-new' });
    expect(await verify(v, keys.a.blob)).toBe(false);
    expect(v.failure()?.message).toContain('@revoked');

    const asDir = join(dir, 'kh_dir');
    mkdirSync(asDir);
    const u = createHostVerifier({ ...base, knownHosts: asDir, policy: 'accept-new' });
    expect(await verify(u, keys.a.blob)).toBe(false);
    expect(u.failure()).toMatchObject({ kind: 'hostkey' });
    expect(u.failure()?.message).toContain('EISDIR');
  });
});
