/**
 * The faults failover-test injects on a VIP's current master, each as shell text built with
 * sh() for the host's service manager, with the command that undoes it. Pure: no transport.
 * Scripts run under render() (they may read "$R", the root prefix, empty on real hosts).
 */
import type { MasterEvent } from '../inventory/vrrp-math.js';
import type { ServiceManager } from '../remote/sections/host.js';
import { sh } from '../shell/quote.js';
import { serviceCommand } from '../shell/service.js';
import { nginxControl } from '../shell/nginx.js';
import type { NginxLayout } from '../inventory/model.js';
import { ARP_CHAIN, FIND_SSH_FLOW, RULE_COMMENT, SWEEP_RULES } from '../remote/sections/faults.js';

export const FAULT_KINDS = [
  'stop-nginx',
  'stop-keepalived',
  'kill-keepalived',
  'partition',
  'isolate',
  'freeze',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

/** What VRRP sees of each fault, for the bound it promises. */
export const FAULT_EVENT: Record<FaultKind, MasterEvent> = {
  'stop-nginx': 'nginx-death',
  'stop-keepalived': 'graceful-stop',
  'kill-keepalived': 'silent',
  partition: 'silent',
  isolate: 'silent',
  freeze: 'silent',
};

export interface FaultTarget {
  serviceManager: ServiceManager;
  /** How nginx runs on the master (package service, or a build under its own prefix). Default: the package. */
  nginx?: NginxLayout;
  /** VRRP addresses of the master's peers (partition drops their adverts). */
  peers: string[];
  family: 4 | 6;
  /** The cluster's IPv4 VIPs (isolate stops ARP for them). */
  vips4?: string[];
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

export { RULE_COMMENT, SWEEP_RULES };

const needs = (program: string, why: string) =>
  `command -v ${program} >/dev/null 2>&1 || { echo ${sh([`${program} is not installed on this host: ${why}`])} >&2; exit 3; }`;

function vrrpRules(t: FaultTarget): string[][] {
  const comment = ['-m', 'comment', '--comment', RULE_COMMENT];
  return [
    ...t.peers.map((p) => ['INPUT', '-p', '112', '-s', p, ...comment, '-j', 'DROP']),
    ['OUTPUT', '-p', '112', ...comment, '-j', 'DROP'],
  ];
}

const NO_FLOW = sh([
  "cannot find this SSH session's connection (no SSH_CONNECTION in its process ancestry): refusing to isolate the host, the rules could lock you out",
]);

/**
 * isolate: everything in and out dropped except loopback and the SSH connection this script
 * arrived on (its exact address and port pair), inserted above every other rule, accepts
 * first, so the session is never without its exception. ARP is not IP: iptables cannot stop
 * it, and an isolated master that still answers ARP for the VIP pulls clients back to itself
 * after the backup's gratuitous ARP. A dead host answers nothing, so arptables drops ARP for the
 * VIPs, both ways, and only for them: ARP for the host's own address keeps the operator's
 * session resolvable.
 */
function arpDrops(t: FaultTarget): string[] {
  if (!t.vips4?.length) return [];
  const c = ARP_CHAIN;
  return [
    `arptables -N ${c} || exit 1`,
    ...t.vips4.flatMap((v) => [
      // Requests for the VIP are not answered, and nothing is said from it.
      `arptables -A ${c} --destination-ip ${sh([v])} -j DROP || exit 1`,
      `arptables -A ${c} --source-ip ${sh([v])} -j DROP || exit 1`,
    ]),
    `arptables -I INPUT 1 -j ${c} && arptables -I OUTPUT 1 -j ${c} || exit 1`,
  ];
}

function isolateInject(t: FaultTarget): string {
  const c = `-m comment --comment ${RULE_COMMENT}`;
  return [
    ...arpDrops(t),
    FIND_SSH_FLOW,
    `[ -n "$hf_sc" ] || { echo ${NO_FLOW} >&2; exit 3; }`,
    'set -- $hf_sc',
    'case "$1" in *:*) hf_fam=ip6tables;; *) hf_fam=iptables;; esac',
    'for hf_t in iptables ip6tables; do',
    '  command -v "$hf_t" >/dev/null 2>&1 || { [ "$hf_t" = iptables ] && exit 3; continue; }',
    '  hf_n=1',
    '  if [ "$hf_t" = "$hf_fam" ]; then',
    `    "$hf_t" -w -I INPUT 1 -p tcp -s "$1" --sport "$2" -d "$3" --dport "$4" ${c} -j ACCEPT || exit 1`,
    `    "$hf_t" -w -I OUTPUT 1 -p tcp -s "$3" --sport "$4" -d "$1" --dport "$2" ${c} -j ACCEPT || exit 1`,
    '    hf_n=2',
    '  fi',
    `  "$hf_t" -w -I INPUT "$hf_n" -i lo ${c} -j ACCEPT && "$hf_t" -w -I OUTPUT "$hf_n" -o lo ${c} -j ACCEPT || exit 1`,
    `  "$hf_t" -w -I INPUT $((hf_n+1)) ${c} -j DROP && "$hf_t" -w -I OUTPUT $((hf_n+1)) ${c} -j DROP || exit 1`,
    'done',
  ].join('\n');
}

/** Succeeds when no process of these programs is stopped by a signal (state T in /proc). */
function noneFrozen(programs: string[]): string {
  return [
    `for hf_n in ${programs.join(' ')}; do for hf_p in $(pidof "$hf_n"); do`,
    `  [ "$(sed 's/.*) //' "$R"/proc/$hf_p/stat 2>/dev/null | cut -c1)" = T ] && exit 1`,
    'done; done; true',
  ].join('\n');
}

/** Stops or starts a service on the master; nginx built under its own prefix is controlled through its binary. */
function svc(t: FaultTarget, action: 'start' | 'stop', name: 'nginx' | 'keepalived'): string {
  return name === 'nginx' && t.nginx
    ? nginxControl(t.nginx, t.serviceManager, action)
    : serviceCommand(t.serviceManager, action, name);
}

function serviceFault(kind: 'stop-nginx' | 'stop-keepalived', t: FaultTarget): Fault {
  const name = kind === 'stop-nginx' ? 'nginx' : 'keepalived';
  const stop = svc(t, 'stop', name);
  const start = svc(t, 'start', name);
  return {
    kind,
    describe:
      kind === 'stop-nginx'
        ? `stop nginx on the master (${stop})`
        : `stop keepalived gracefully on the master (${stop})`,
    expect:
      kind === 'stop-nginx'
        ? 'the nginx health check fails, the master gives up the VIP and a backup takes it'
        : 'the master sends a priority-0 advert and removes the VIP; a backup takes it after its skew time',
    inject: stop,
    undo: `pidof ${name} >/dev/null 2>&1 || ${start}`,
    undoSummary: `${name} started (${start})`,
  };
}

function partitionFault(t: FaultTarget): Fault {
  const ipt = t.family === 6 ? 'ip6tables' : 'iptables';
  const rules = vrrpRules(t);
  return {
    kind: 'partition',
    describe: `drop VRRP (IP protocol 112) to and from the master's peers (${ipt} rules marked ${RULE_COMMENT})`,
    expect:
      'the backup stops hearing the master and takes the VIP while the master keeps it: split brain on purpose, healed when the rules are removed',
    precheck: needs(ipt, 'the partition fault needs it'),
    inject: rules.map((r) => sh([ipt, '-w', '-I', ...r])).join(' && '),
    undoSummary: `the ${ipt} rules marked ${RULE_COMMENT} removed`,
    undo: rules
      .map((r) => `while ${sh([ipt, '-w', '-C', ...r])} 2>/dev/null; do ${sh([ipt, '-w', '-D', ...r])} || exit 1; done`)
      .join('; '),
  };
}

/**
 * keepalived on an isolated master still believes it is master and sends its periodic
 * gratuitous ARPs (vrrp_garp_master_refresh) through a packet socket, which no firewall sees:
 * on the lab they pulled the client back to the unreachable master within 10 s. A dead host
 * sends nothing, so isolate also stops keepalived (SIGSTOP) once the rules are in; the undo
 * removes the rules first, then resumes it.
 */
const STOP_KEEPALIVED = sh(['pkill', '-STOP', '-x', 'keepalived']);
const CONT_KEEPALIVED = sh(['pkill', '-CONT', '-x', 'keepalived']);

function isolateFault(t: FaultTarget): Fault {
  return {
    kind: 'isolate',
    describe: `drop every packet in and out of the master except loopback and this SSH session (iptables and ip6tables rules marked ${RULE_COMMENT}), ARP for the VIPs (arptables), and stop its keepalived (SIGSTOP, so not even its gratuitous ARPs leave): the host is dead as far as the network can tell`,
    expect:
      'no adverts and no answers from the master: a backup takes the VIP after 3 × advert_int + skew; the master keeps the VIP on its interface, unreachable, until the fault is undone',
    precheck: [
      needs('iptables', 'the isolate fault needs it'),
      ...(t.vips4?.length ? [needs('arptables', 'the isolate fault stops ARP for the VIPs with it')] : []),
      FIND_SSH_FLOW,
      `[ -n "$hf_sc" ] || { echo ${NO_FLOW} >&2; exit 3; }`,
    ].join('\n'),
    inject: `${isolateInject(t)}\n${STOP_KEEPALIVED} || exit 1`,
    undo: `( ${SWEEP_RULES}\n); hf_r=$?; ${CONT_KEEPALIVED}; exit $hf_r`,
    undoSummary: `every iptables/ip6tables rule marked ${RULE_COMMENT} and the arptables chain ${ARP_CHAIN} removed, keepalived resumed (SIGCONT)`,
  };
}

function freezeFault(): Fault {
  return {
    kind: 'freeze',
    describe: `freeze keepalived, then nginx, on the master (${sh(['pkill', '-STOP', '-x', 'keepalived'])}; the same for nginx): a hung host`,
    expect:
      "no more adverts: a backup takes the VIP after 3 × advert_int + skew; the frozen master's kernel still accepts connections that nginx never answers, so clients that reach it hang until their timeout",
    // keepalived first: a frozen keepalived runs no health check, so nothing turns this into a clean FAULT.
    inject: `${sh(['pkill', '-STOP', '-x', 'keepalived'])} && ${sh(['pkill', '-STOP', '-x', 'nginx'])}`,
    // nginx first: keepalived's first check after it resumes then finds nginx serving.
    undo: `${sh(['pkill', '-CONT', '-x', 'nginx'])}; ${sh(['pkill', '-CONT', '-x', 'keepalived'])}; true`,
    undoSummary: 'nginx and keepalived resumed (SIGCONT)',
  };
}

export function buildFault(kind: FaultKind, t: FaultTarget): Fault {
  switch (kind) {
    case 'stop-nginx':
    case 'stop-keepalived':
      return serviceFault(kind, t);
    case 'kill-keepalived': {
      const start = serviceCommand(t.serviceManager, 'start', 'keepalived');
      // Every keepalived process is stopped before any is killed: pkill signals them one by
      // one, and keepalived's VRRP child, its parent killed first, would otherwise get the
      // moment to leave gracefully (remove the VIP, advertise priority 0). That is a stop, not
      // the crash this fault promises. Hang-ups are ignored so that the pair runs whole; an
      // undo after a half run kills whatever was left stopped before starting keepalived.
      const stop = sh(['pkill', '-STOP', '-x', 'keepalived']);
      const kill = sh(['pkill', '-KILL', '-x', 'keepalived']);
      return {
        kind,
        describe: `crash keepalived on the master (${stop}; ${kill})`,
        expect:
          "no more adverts: a backup takes the VIP after 3 × advert_int + skew; the VIP stays on the crashed master's interface (SIGKILL leaves no time to remove it) until keepalived restarts there",
        inject: `( trap '' HUP INT TERM PIPE; ${stop}; ${kill} ) || true`,
        // keepalived removes the stale VIP when it starts and settles (checked in the lab).
        undo: `( ${noneFrozen(['keepalived'])} ) || { ${kill}; hf_i=0; while pidof keepalived >/dev/null 2>&1 && [ $hf_i -lt 30 ]; do sleep 0.1; hf_i=$((hf_i+1)); done; }; pidof keepalived >/dev/null 2>&1 || ${start}`,
        undoSummary: `keepalived started (${start})`,
      };
    }
    case 'partition':
      return partitionFault(t);
    case 'isolate':
      return isolateFault(t);
    case 'freeze':
      return freezeFault();
  }
}

const NO_RULE = (t: 'iptables' | 'ip6tables') => `! ${t}-save 2>/dev/null | grep -q ${sh([RULE_COMMENT])}`;

/** Shell test that succeeds when the fault is fully undone (services up, no rule left, nothing frozen). */
export function restoredCheck(kind: FaultKind, t: FaultTarget): string {
  switch (kind) {
    case 'stop-nginx':
      return 'pidof nginx >/dev/null 2>&1';
    case 'stop-keepalived':
      return 'pidof keepalived >/dev/null 2>&1';
    case 'kill-keepalived':
      return `pidof keepalived >/dev/null 2>&1 && ( ${noneFrozen(['keepalived'])} )`;
    case 'partition':
      return NO_RULE(t.family === 6 ? 'ip6tables' : 'iptables');
    case 'isolate':
      return `${NO_RULE('iptables')} && ${NO_RULE('ip6tables')} && ( ${noneFrozen(['keepalived'])} )${t.vips4?.length ? ` && ! arptables -L ${ARP_CHAIN} >/dev/null 2>&1` : ''}`;
    case 'freeze':
      return `( ${noneFrozen(['keepalived', 'nginx'])} )`;
  }
}
