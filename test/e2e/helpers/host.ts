/**
 * Acting inside lab hosts from a test: run a command, write a file, stop, start or kill a
 * service, pull a host's cable. Everything goes through nsenter (no SSH), so these helpers
 * work even while SSH or the network of a host is what is being broken.
 */
import { execa } from 'execa';
import { sh } from '../../../src/shell/quote.js';
import { findHost, hostExec, type ExecResult, type HostExecOptions } from '../../../src/lab/exec.js';
import { setLink } from '../../../src/lab/network.js';
import type { LabState } from '../../../src/lab/types.js';

export type Service = 'nginx' | 'keepalived';

/** Runs `script` with /bin/sh as root inside host `name`; throws on a non-zero exit unless check: false. */
export function inHost(lab: LabState, name: string, script: string, opts?: HostExecOptions): Promise<ExecResult> {
  return hostExec(findHost(lab, name), script, opts);
}

export async function putFile(
  lab: LabState,
  name: string,
  path: string,
  content: string,
  mode = '0644',
): Promise<void> {
  await inHost(
    lab,
    name,
    `mkdir -p "$(dirname ${sh([path])})" && cat > ${sh([path])} && chmod ${sh([mode])} ${sh([path])}`,
    { input: content },
  );
}

/** `service <name> start|stop|reload|restart` through the Debian init script (there is no systemd). */
export async function service(
  lab: LabState,
  name: string,
  svc: Service,
  action: 'start' | 'stop' | 'reload' | 'restart',
): Promise<ExecResult> {
  return inHost(lab, name, sh(['service', svc, action]), { timeoutMs: 30_000 });
}

export const startService = (lab: LabState, name: string, svc: Service) => service(lab, name, svc, 'start');
export const stopService = (lab: LabState, name: string, svc: Service) => service(lab, name, svc, 'stop');

/** Sends `signal` (default KILL) to every process of the service in that host; true when one was found. */
export async function killService(
  lab: LabState,
  name: string,
  svc: Service,
  signal: 'KILL' | 'TERM' | 'STOP' | 'CONT' = 'KILL',
): Promise<boolean> {
  const r = await inHost(lab, name, sh(['pkill', `-${signal}`, '-x', svc]), { check: false });
  if (r.exitCode > 1) throw new Error(`pkill -${signal} -x ${svc} in ${name} failed (exit ${r.exitCode}): ${r.stderr}`);
  return r.exitCode === 0;
}

/** Pids of the service in that host (as the host sees them); empty when it is not running. */
export async function servicePids(lab: LabState, name: string, svc: Service): Promise<number[]> {
  const r = await inHost(lab, name, sh(['pgrep', '-x', svc]), { check: false });
  return r.stdout.split('\n').filter(Boolean).map(Number);
}

/**
 * Takes the host's link down or up. `inside`: its interface (the host sees it go down);
 * `bridge`: the machine-side end, as a pulled cable (the interface stays up but loses carrier).
 * `dev` eth1: a load balancer's private link (a --private-net lab).
 */
export async function linkDown(
  lab: LabState,
  name: string,
  side: 'inside' | 'bridge' = 'inside',
  dev: 'eth0' | 'eth1' = 'eth0',
): Promise<void> {
  await setLink(findHost(lab, name), false, side, dev);
}

export async function linkUp(
  lab: LabState,
  name: string,
  side: 'inside' | 'bridge' = 'inside',
  dev: 'eth0' | 'eth1' = 'eth0',
): Promise<void> {
  await setLink(findHost(lab, name), true, side, dev);
}

/** Runs a command in the host's network namespace only (machine's files and tools). */
export async function inNetns(lab: LabState, name: string, argv: string[]): Promise<ExecResult> {
  const r = await execa('nsenter', [`--net=/run/netns/${findHost(lab, name).netns}`, ...argv], {
    reject: false,
    timeout: 15_000,
  });
  return { exitCode: r.exitCode ?? -1, stdout: String(r.stdout), stderr: String(r.stderr) };
}
