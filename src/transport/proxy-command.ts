/**
 * ProxyCommand, as ssh runs it: `$SHELL -c "exec <command>"` (tokens already expanded), its
 * stdin and stdout the SSH byte stream. What it prints on stderr is kept (the last lines) for
 * the error message when the connection fails, never shown otherwise: a bastion's banner or
 * warnings are not hactl's output.
 */
import { spawn } from 'node:child_process';
import { Duplex } from 'node:stream';

export interface ProxyStream {
  stream: Duplex;
  /** "ProxyCommand `…` exited 255: <its last stderr lines>", or how it is doing. */
  describe(): string;
  /** Ends the command (SIGTERM); harmless when it has exited. */
  stop(): void;
}

export function proxyCommand(command: string): ProxyStream {
  const child = spawn(process.env.SHELL || '/bin/sh', ['-c', `exec ${command}`], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  let exit: string | undefined;
  child.stderr.on('data', (b: Buffer) => (stderr = (stderr + b.toString('utf8')).slice(-2000)));
  child.on('exit', (code, signal) => (exit ??= signal ? `was killed by ${signal}` : `exited ${code}`));
  const stop = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  };
  // Not Duplex.from: that reports the command's exit as an error ("Premature close"), where
  // ssh2 must see a closed connection, like a TCP socket the server closed.
  const stream = new Duplex({
    allowHalfOpen: false,
    read: () => void child.stdout.resume(),
    // A failed write (EPIPE: the command has exited or closed its stdin) is not the stream's
    // error: ssh2 would report "write EPIPE" before the exit is known. The command's close ends
    // the stream, and the failure then says how it exited (one that lingers meets readyTimeout).
    write: (chunk: Buffer, _enc, cb) => void child.stdin.write(chunk, () => cb()),
    // Not waiting for stdin to flush: when the command has exited, that callback never comes.
    final: (cb) => {
      child.stdin.end();
      cb();
    },
    destroy: (err, cb) => {
      stop();
      cb(err);
    },
  });
  child.stdout.on('data', (b: Buffer) => {
    if (!stream.push(b)) child.stdout.pause();
  });
  // The end of the stream waits for the command's exit and last stderr, so a failure can say them.
  child.on('close', () => stream.push(null));
  // Writing to a command that has exited fails with EPIPE; its exit, reported on close, says more.
  child.stdin.on('error', () => {});
  child.on('error', (err) => {
    exit = `could not start (${err.message})`;
    stream.destroy();
  });
  return {
    stream,
    stop,
    describe: () => {
      const said = stderr.trim().split('\n').slice(-3).join('; ');
      return `ProxyCommand \`${command}\` ${exit ?? 'is running'}${said ? `: ${said}` : ''}`;
    },
  };
}
