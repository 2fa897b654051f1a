/**
 * Running a command inside a lab host from the machine, without SSH: nsenter into the host
 * init's namespaces and root. For tests and diagnostics; hactl itself reaches hosts over SSH.
 */
import { execa } from 'execa';
import { STD_PATH } from './host.js';
import type { HostState, LabState } from './types.js';

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface HostExecOptions {
  /** Default 15 s; the command is killed after it. */
  timeoutMs?: number;
  input?: string;
  /** Throw when the exit code is not 0 (default true). */
  check?: boolean;
}

export function findHost(lab: Pick<LabState, 'id' | 'hosts'>, name: string): HostState {
  const host = lab.hosts.find((h) => h.name === name);
  if (!host) throw new Error(`lab ${lab.id} has no host ${name} (hosts: ${lab.hosts.map((h) => h.name).join(', ')})`);
  return host;
}

/** Runs `script` with /bin/sh as root inside the host (its mount, uts, ipc, net and pid namespaces, chrooted). */
export async function hostExec(
  host: Pick<HostState, 'name' | 'pid'>,
  script: string,
  opts: HostExecOptions = {},
): Promise<ExecResult> {
  const r = await execa(
    'nsenter',
    [
      '-t',
      String(host.pid),
      '-m',
      '-u',
      '-i',
      '-n',
      '-p',
      '-r',
      '-w',
      'env',
      '-i',
      `PATH=${STD_PATH}`,
      'HOME=/root',
      'LANG=C.UTF-8',
      '/bin/sh',
      '-c',
      script,
    ],
    { reject: false, timeout: opts.timeoutMs ?? 15_000, input: opts.input ?? '', stripFinalNewline: false },
  );
  const result = { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
  if ((opts.check ?? true) && result.exitCode !== 0) {
    const why = r.timedOut ? `timed out after ${opts.timeoutMs ?? 15_000} ms` : `exit ${result.exitCode}`;
    throw new Error(
      `in ${host.name}: \`${script}\` failed (${why}): ${(result.stderr || result.stdout).trim().slice(0, 2000)}`,
    );
  }
  return result;
}
