import { failed, FakeTransport, ok } from '../../helpers/fake-transport.js';
import { TransportError } from '../../../src/transport/transport.js';

describe('FakeTransport', () => {
  test('first matching rule answers; calls are recorded in order with stdin and root', async () => {
    const seen: string[] = [];
    const fake = new FakeTransport('lb1', [
      { match: /^cat /, result: (script, stdin) => ok(`${script}:${String(stdin)}`) },
      { match: /nginx -t/, result: failed(1, 'nginx: [emerg] bad'), times: 1 },
      { match: (s) => s.includes('nginx'), result: ok('second') },
    ]);
    expect(await fake.exec('cat /etc/x', { stdin: 'data' })).toEqual({
      code: 0,
      stdout: 'cat /etc/x:data',
      stderr: '',
    });
    expect(await fake.exec('nginx -t', { root: false, onStderr: (c) => seen.push(c) })).toMatchObject({
      code: 1,
      stderr: 'nginx: [emerg] bad',
    });
    expect(await fake.exec('nginx -t')).toMatchObject({ code: 0, stdout: 'second' });
    expect(seen).toEqual(['nginx: [emerg] bad']);
    expect(fake.calls).toEqual([
      { script: 'cat /etc/x', stdin: 'data', root: true, timeoutMs: undefined },
      { script: 'nginx -t', stdin: undefined, root: false, timeoutMs: undefined },
      { script: 'nginx -t', stdin: undefined, root: true, timeoutMs: undefined },
    ]);
    expect(fake.roundTrips).toBe(3);
  });

  test('an unexpected script fails the test unless a fallback is given', async () => {
    await expect(new FakeTransport('lb1').exec('rm -rf /')).rejects.toThrow(/no rule matches script:\nrm -rf \//);
    expect(await new FakeTransport('lb1', [], { fallback: ok('x') }).exec('anything')).toMatchObject({ stdout: 'x' });
  });

  test('can be told to fail with a TransportError, always or once', async () => {
    const fake = new FakeTransport('lb1', [{ match: /./, result: ok() }]);
    fake.failWith('closed', { once: true, message: 'dropped' });
    await expect(fake.exec('a')).rejects.toMatchObject({ kind: 'closed', host: 'lb1', message: 'lb1: dropped' });
    await expect(fake.exec('b')).resolves.toMatchObject({ code: 0 });
    fake.failWith(new TransportError('lb1', 'timeout', 'slow'));
    await expect(fake.exec('c')).rejects.toMatchObject({ kind: 'timeout' });
    await expect(fake.exec('d')).rejects.toMatchObject({ kind: 'timeout' });
    const byRule = new FakeTransport('lb2', [
      { match: /sudo/, result: new TransportError('lb2', 'sudo', 'password required') },
    ]);
    await expect(byRule.exec('sudo x')).rejects.toMatchObject({ kind: 'sudo' });
  });

  test('honours an aborted signal and close()', async () => {
    const fake = new FakeTransport('lb1', [], { fallback: ok() });
    const ac = new AbortController();
    ac.abort();
    await expect(fake.exec('x', { signal: ac.signal })).rejects.toMatchObject({ name: 'AbortError' });
    await fake.close();
    await expect(fake.exec('x')).rejects.toMatchObject({ kind: 'closed' });
  });
});
