/** OpenSSH as an operator would use it against the lab: the lab's key and known_hosts, strict checking. */
import { execa } from 'execa';
import { findHost, type ExecResult } from '../../../src/lab/exec.js';
import type { LabState } from '../../../src/lab/types.js';

export interface SshOptions {
  user?: string;
  /** Default: the lab's known_hosts. */
  knownHosts?: string;
  timeoutMs?: number;
}

export function sshArgs(lab: LabState, ip: string, opts: SshOptions = {}): string[] {
  return [
    '-F',
    '/dev/null',
    '-i',
    lab.files.identity,
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    `UserKnownHostsFile=${opts.knownHosts ?? lab.files.knownHosts}`,
    '-o',
    'GlobalKnownHostsFile=/dev/null',
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    'BatchMode=yes',
    '-o',
    'ConnectTimeout=5',
    `${opts.user ?? 'root'}@${ip}`,
  ];
}

/** Runs `command` on lab host `name` over OpenSSH; never throws on a non-zero exit. */
export async function sshRun(lab: LabState, name: string, command: string, opts: SshOptions = {}): Promise<ExecResult> {
  const r = await execa('ssh', [...sshArgs(lab, findHost(lab, name).ip, opts), command], {
    reject: false,
    timeout: opts.timeoutMs ?? 20_000,
    env: { SSH_AUTH_SOCK: '' },
  });
  return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}
