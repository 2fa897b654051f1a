/** ProxyCommand run by the shell, its stdio as the SSH byte stream (real processes). */
import { once } from 'node:events';
import { proxyCommand } from '../../../src/transport/proxy-command.js';

test('bytes written reach the command; what it prints comes back', async () => {
  const p = proxyCommand('tr a-z A-Z');
  const chunks: Buffer[] = [];
  p.stream.on('data', (b: Buffer) => chunks.push(b));
  p.stream.end('hello proxy');
  await once(p.stream, 'end');
  expect(Buffer.concat(chunks).toString()).toBe('HELLO PROXY');
});

test('a command that fails says how, with its last stderr lines', async () => {
  // ssh runs `exec <command>`, so a compound command needs its own shell, as in ~/.ssh/config.
  const p = proxyCommand(`sh -c 'echo "kex_exchange_identification: Connection closed by remote host" >&2; exit 255'`);
  p.stream.resume();
  await once(p.stream, 'close');
  expect(p.describe()).toBe(
    `ProxyCommand \`sh -c 'echo "kex_exchange_identification: Connection closed by remote host" >&2; exit 255'\` exited 255: kex_exchange_identification: Connection closed by remote host`,
  );
});

test('stop ends a command that would run forever, and the stream with it', async () => {
  const p = proxyCommand('sleep 30');
  p.stream.resume();
  const closed = once(p.stream, 'close');
  p.stop();
  await closed;
  expect(p.describe()).toBe('ProxyCommand `sleep 30` was killed by SIGTERM');
});

test('writing to a command that no longer reads is no stream error: its exit ends the stream', async () => {
  // The race behind "write EPIPE (ProxyCommand `false` is running)": ssh2 writes its version
  // line after the command has gone, before its exit is known.
  const p = proxyCommand(`sh -c 'exec 0<&-; sleep 0.3; exit 3'`);
  const errors: Error[] = [];
  p.stream.on('error', (err) => errors.push(err));
  p.stream.resume();
  const closed = once(p.stream, 'close');
  await new Promise((r) => setTimeout(r, 100));
  for (let i = 0; i < 3; i++) p.stream.write(Buffer.from('SSH-2.0-hactl\r\n'));
  await closed;
  expect(errors).toEqual([]);
  expect(p.describe()).toBe(`ProxyCommand \`sh -c 'exec 0<&-; sleep 0.3; exit 3'\` exited 3`);
});
