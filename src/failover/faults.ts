/**
 * The faults failover-test injects on a VIP's current master, each as shell text built with
 * sh() for the host's service manager, with the command that undoes it. Pure: no transport.
 */
import type { MasterEvent } from '../inventory/vrrp-math.js';
import type { ServiceManager } from '../remote/sections/host.js';
import { sh } from '../shell/quote.js';
import { serviceCommand } from '../shell/service.js';
import { nginxControl } from '../shell/nginx.js';
import type { NginxLayout } from '../inventory/model.js';

export const FAULT_KINDS = ['stop-nginx', 'stop-keepalived', 'kill-keepalived', 'partition'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** What VRRP sees of each fault, for the bound it promises. */
export const FAULT_EVENT: Record<FaultKind, MasterEvent> = {
  'stop-nginx': 'nginx-death',
  'stop-keepalived': 'graceful-stop',
  'kill-keepalived': 'silent',
  partition: 'silent',
};

export interface FaultTarget {
  serviceManager: ServiceManager;
  /** How nginx runs on the master (package service, or a build under its own prefix). Default: the package. */
  nginx?: NginxLayout;
  /** VRRP addresses of the master's peers (partition drops their adverts). */
  peers: string[];
  family: 4 | 6;
}

export interface Fault {
  kind: FaultKind;
  /** One line for the confirmation and the report. */
  describe: string;
  /** What the undo does, in a few words (the report and the view show this, not the shell text). */
  undoSummary: string;
  /** What the operator should expect, for the confirmation. */
  expect: string;
  /** Run on the master before injecting; a non-zero exit refuses the fault (stderr says why). */
  precheck?: string;
  inject: string;
  /** Idempotent: safe to run when the fault was never (or only half) injected. */
  undo: string;
}

/** Marks hactl's rules so the undo can never delete an operator's own. */
export const RULE_COMMENT = 'hactl-failover-test';

function vrrpRules(t: FaultTarget): string[][] {
  const comment = ['-m', 'comment', '--comment', RULE_COMMENT];
  return [
    ...t.peers.map((p) => ['INPUT', '-p', '112', '-s', p, ...comment, '-j', 'DROP']),
    ['OUTPUT', '-p', '112', ...comment, '-j', 'DROP'],
  ];
}

export function buildFault(kind: FaultKind, t: FaultTarget): Fault {
  const svc = (action: 'start' | 'stop', name: string) =>
    name === 'nginx' && t.nginx
      ? nginxControl(t.nginx, t.serviceManager, action)
      : serviceCommand(t.serviceManager, action, name);
  switch (kind) {
    case 'stop-nginx':
      return {
        kind,
        describe: `stop nginx on the master (${svc('stop', 'nginx')})`,
        expect: 'the nginx health check fails, the master gives up the VIP and a backup takes it',
        inject: svc('stop', 'nginx'),
        undo: `pidof nginx >/dev/null 2>&1 || ${svc('start', 'nginx')}`,
        undoSummary: `nginx started (${svc('start', 'nginx')})`,
      };
    case 'stop-keepalived':
      return {
        kind,
        describe: `stop keepalived gracefully on the master (${svc('stop', 'keepalived')})`,
        expect: 'the master sends a priority-0 advert and removes the VIP; a backup takes it after its skew time',
        inject: svc('stop', 'keepalived'),
        undo: `pidof keepalived >/dev/null 2>&1 || ${svc('start', 'keepalived')}`,
        undoSummary: `keepalived started (${svc('start', 'keepalived')})`,
      };
    case 'kill-keepalived':
      return {
        kind,
        describe: `crash keepalived on the master (${sh(['pkill', '-KILL', '-x', 'keepalived'])})`,
        expect:
          "no more adverts: a backup takes the VIP after 3 × advert_int + skew; the VIP stays on the crashed master's interface (SIGKILL leaves no time to remove it) until keepalived restarts there",
        inject: `${sh(['pkill', '-KILL', '-x', 'keepalived'])} || true`,
        // keepalived removes the stale VIP when it starts and settles (checked in the lab).
        undo: `pidof keepalived >/dev/null 2>&1 || ${svc('start', 'keepalived')}`,
        undoSummary: `keepalived started (${svc('start', 'keepalived')})`,
      };
    case 'partition': {
      const ipt = t.family === 6 ? 'ip6tables' : 'iptables';
      const rules = vrrpRules(t);
      return {
        kind,
        describe: `drop VRRP (IP protocol 112) to and from the master's peers (${ipt} rules marked ${RULE_COMMENT})`,
        expect:
          'the backup stops hearing the master and takes the VIP while the master keeps it: split brain on purpose, healed when the rules are removed',
        precheck: `command -v ${ipt} >/dev/null 2>&1 || { echo ${sh([`${ipt} is not installed on this host: the partition fault needs it`])} >&2; exit 3; }`,
        inject: rules.map((r) => sh([ipt, '-w', '-I', ...r])).join(' && '),
        undoSummary: `the ${ipt} rules marked ${RULE_COMMENT} removed`,
        undo: rules
          .map(
            (r) =>
              `while ${sh([ipt, '-w', '-C', ...r])} 2>/dev/null; do ${sh([ipt, '-w', '-D', ...r])} || exit 1; done`,
          )
          .join('; '),
      };
    }
  }
}

/** Shell test that succeeds when the fault is fully undone (services up, no rule left). */
export function restoredCheck(kind: FaultKind, t: FaultTarget): string {
  switch (kind) {
    case 'stop-nginx':
      return 'pidof nginx >/dev/null 2>&1';
    case 'stop-keepalived':
    case 'kill-keepalived':
      return 'pidof keepalived >/dev/null 2>&1';
    case 'partition': {
      const ipt = t.family === 6 ? 'ip6tables-save' : 'iptables-save';
      return `! ${ipt} 2>/dev/null | grep -q ${sh([RULE_COMMENT])}`;
    }
  }
}
