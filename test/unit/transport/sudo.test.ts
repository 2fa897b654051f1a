import { sudoFailure } from '../../../src/transport/ssh.js';

const r = (code: number, stderr: string) => ({ code, stdout: '', stderr });

describe('sudo refusal detection (exact sudo messages)', () => {
  test.each([
    'sudo: a password is required\n',
    'sudo: a terminal is required to read the password; either use the -S option to read from standard input or configure an askpass helper\n',
    'deploy is not in the sudoers file.  This incident will be reported.\n',
    'sudo: unable to resolve host lb1: Name or service not known\ndeploy is not in the sudoers file.\n',
    "Sorry, user deploy is not allowed to execute '/bin/sh -c id' as root on lb1.\n",
  ])('exit 1 with %p is a sudo error that says how to fix it', (stderr) => {
    const msg = sudoFailure(r(1, stderr), 'deploy');
    expect(msg).toBeDefined();
    expect(msg).toContain(
      stderr
        .split('\n')
        .find((l) => /sudo|Sorry/.test(l) && !/resolve/.test(l))
        ?.trim(),
    );
    expect(msg).toContain('deploy ALL=(root) NOPASSWD: ALL');
  });

  test('sudo missing (exit 127)', () => {
    expect(sudoFailure(r(127, 'sh: 1: sudo: not found\n'), 'deploy')).toMatch(/sudo is not installed/);
    expect(sudoFailure(r(127, 'bash: sudo: command not found\n'), 'deploy')).toMatch(/sudo is not installed/);
  });

  test('ordinary failures are not sudo errors', () => {
    expect(sudoFailure(r(1, 'nginx: [emerg] unknown directive\n'), 'deploy')).toBeUndefined();
    expect(sudoFailure(r(2, 'sudo: a password is required\n'), 'deploy')).toBeUndefined();
    expect(sudoFailure(r(0, ''), 'deploy')).toBeUndefined();
    expect(sudoFailure(r(127, 'sh: 1: keepalived: not found\n'), 'deploy')).toBeUndefined();
  });
});
