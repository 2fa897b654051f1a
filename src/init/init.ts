/**
 * `hactl init`: answers from flags, proposals from discovery, the rest from the operator (when
 * there is a Prompter) or a usage error naming the missing flags (when there is none, so a
 * script without a terminal never hangs). The result is validated before anything is written,
 * and an existing file is replaced only with --force or the operator's yes.
 */
import { EXIT, UserError } from '../ui/base-command.js';
import type { Problem } from '../inventory/problems.js';
import {
  formatPriorities,
  parseBackends,
  parseLbs,
  parseName,
  parsePriorities,
  parseServerNames,
  parseVip,
  parseVrid,
  splitList,
  type BackendAnswer,
  type HostKeyPolicy,
  type InitAnswers,
  type LbAnswer,
  type Parsed,
  type SshAnswers,
  type VipAnswer,
} from './answers.js';
import type { Discovered, Discoverer } from './discover.js';
import type { HostFacts } from './facts.js';
import { checkedInventoryYaml } from './inventory-yaml.js';
import { mayWrite, writeInventory } from './write-file.js';
import {
  mastersFor,
  propose,
  proposePriorities,
  proposeVrids,
  sameSubnet,
  vipCount,
  type Mode,
  type Proposal,
} from './propose.js';
import type { Prompter } from './prompter.js';

export interface InitOptions {
  output: string;
  force?: boolean;
  lbs?: string[];
  user?: string;
  port?: number;
  identityFile?: string;
  knownHosts?: string;
  hostKeyPolicy?: HostKeyPolicy;
  jumpHost?: string;
  mode?: Mode;
  cluster?: string;
  interface?: string;
  vips?: string[];
  vrids?: number[];
  priorities?: string[];
  backends?: string[];
  serverNames?: string[];
  healthPath?: string;
  /** Environment variable for the VRRP password; '' for no VRRP authentication. */
  vrrpPassEnv?: string;
  discover?: boolean;
}

export interface InitDeps {
  /** Absent: non-interactive (flags and proposals only). */
  prompter?: Prompter;
  discover: Discoverer;
  /** Progress and notes (the command sends them to stderr). */
  log: (line: string) => void;
  env?: NodeJS.ProcessEnv;
}

export interface InitResult {
  file: string;
  text: string;
  answers: InitAnswers;
  discovered: Discovered[];
  proposal?: Proposal;
  warnings: Problem[];
  /** Commands to run next, in order. */
  next: string[];
}

const DEFAULT_PASS_ENV = 'HACTL_VRRP_PASS';

function must<T>(p: Parsed<T>, flag: string): T {
  if (!p.ok) throw new UserError(`${flag}: ${p.error}`, EXIT.usage);
  return p.value;
}

const check =
  <T>(parse: (s: string) => Parsed<T>) =>
  (s: string): true | string => {
    const p = parse(s);
    return p.ok ? true : p.error;
  };

/** The node's own address on `iface`, preferring the SSH address. */
function ownAddress(facts: HostFacts, iface: string, address: string) {
  const i = facts.interfaces.find((x) => x.name === iface);
  return i?.addrs.find((a) => a.ip === address) ?? i?.addrs.find((a) => !a.secondary && a.scope === 'global');
}

function lbDetails(lbs: LbAnswer[], iface: string, facts: Map<string, HostFacts>, proposal?: Proposal): LbAnswer[] {
  return lbs.map((lb) => {
    const f = facts.get(lb.name);
    if (!f) return lb;
    let own = ownAddress(f, iface, lb.address);
    let lbIface: string | undefined;
    const p = proposal?.lbs.find((x) => x.lb === lb.name);
    if (!own && p?.iface && p.own) {
      own = p.own;
      lbIface = p.iface;
    }
    return {
      ...lb,
      ...(lbIface ? { interface: lbIface } : {}),
      ...(own && own.ip !== lb.address ? { vrrpAddress: own.ip } : {}),
    };
  });
}

function describe(d: Discovered): string {
  if (!d.facts) return `${d.lb}: not discovered (${d.error})`;
  const addrs = d.facts.interfaces
    .filter((i) => !i.loopback)
    .map((i) => `${i.name} ${i.addrs.map((a) => `${a.ip}/${a.prefix}`).join(' ') || '(no IPv4)'}`);
  const vrids = [...new Set(d.facts.vrids.map((v) => v.vrid))].sort((a, b) => a - b);
  const heard =
    d.facts.listen.method === 'none'
      ? 'not listened (no python3 or tcpdump)'
      : `${d.facts.listen.ok ? 'listened' : 'could not listen'} ${d.facts.listen.seconds}s with ${d.facts.listen.method}`;
  return `${d.lb}: ${addrs.join('; ')}; VRIDs seen: ${vrids.join(', ') || 'none'} (${heard})`;
}

export async function runInit(o: InitOptions, deps: InitDeps): Promise<InitResult> {
  const { prompter: ask, log } = deps;
  const env = deps.env ?? process.env;
  const file = o.output;
  const overwrite = await mayWrite(file, o.force ?? false, ask);
  const missing: string[] = [];

  // Who and how.
  let cluster = o.cluster !== undefined ? must(parseName(o.cluster, 'cluster name'), '--cluster') : undefined;
  if (cluster === undefined && ask)
    cluster = await ask.input({
      id: 'cluster',
      message: 'Cluster name',
      default: 'web',
      validate: check((s) => parseName(s, 'cluster name')),
    });
  cluster ??= 'web';

  let lbs: LbAnswer[] | undefined = o.lbs?.length ? must(parseLbs(o.lbs.flatMap(splitList)), '--lb') : undefined;
  if (!lbs && ask) {
    const text = await ask.input({
      id: 'lbs',
      message: 'Load balancers (at least two, as name=address or address, separated by spaces)',
      validate: check((s) => parseLbs(splitList(s))),
    });
    lbs = must(parseLbs(splitList(text)), 'load balancers');
  }
  if (!lbs) missing.push('--lb NAME=ADDRESS (at least two)');

  const ssh: SshAnswers = { user: o.user ?? 'root', hostKeyPolicy: o.hostKeyPolicy ?? 'accept-new' };
  if (o.user === undefined && ask)
    ssh.user = await ask.input({
      id: 'user',
      message: 'SSH user (not root: commands run through sudo -n)',
      default: 'root',
      validate: (s) => (/^[a-z_][a-z0-9_.-]{0,31}\$?$/.test(s) ? true : 'not a valid user name'),
    });
  if (o.port !== undefined) ssh.port = o.port;
  const identity =
    o.identityFile ??
    (ask
      ? await ask.input({
          id: 'identityFile',
          message: 'SSH private key file (empty: the ssh-agent and ~/.ssh/id_*)',
          default: '',
        })
      : '');
  if (identity) ssh.identityFile = identity;
  const knownHosts =
    o.knownHosts ??
    (ask ? await ask.input({ id: 'knownHosts', message: 'known_hosts file', default: '~/.ssh/known_hosts' }) : '');
  if (knownHosts && knownHosts !== '~/.ssh/known_hosts') ssh.knownHosts = knownHosts;
  if (o.hostKeyPolicy === undefined && ask)
    ssh.hostKeyPolicy = await ask.select<HostKeyPolicy>({
      id: 'hostKeyPolicy',
      message: 'Unknown host keys',
      default: 'accept-new',
      choices: [
        { value: 'accept-new', name: "accept-new: record a host's key the first time (a changed key is refused)" },
        { value: 'strict', name: 'strict: only hosts already in known_hosts' },
      ],
    });
  if (o.jumpHost) ssh.jumpHost = o.jumpHost;

  let mode = o.mode;
  if (!mode && ask)
    mode = await ask.select<Mode>({
      id: 'mode',
      message: 'Mode',
      default: 'active-passive',
      choices: [
        { value: 'active-passive', name: 'active-passive: one VIP, one master, the others stand by' },
        { value: 'dual-master', name: 'dual-master: two VIPs, each mastered by a different load balancer' },
      ],
    });
  mode ??= 'active-passive';

  // Discovery and proposals.
  const facts = new Map<string, HostFacts>();
  let discovered: Discovered[] = [];
  let proposal: Proposal | undefined;
  if (lbs && o.discover !== false) {
    log(`Discovering ${lbs.map((l) => `${l.name} (${l.address})`).join(', ')} over SSH…`);
    const sshDoc = {
      user: ssh.user,
      ...(ssh.port ? { port: ssh.port } : {}),
      ...(ssh.identityFile ? { identity_file: ssh.identityFile } : {}),
      ...(ssh.knownHosts ? { known_hosts: ssh.knownHosts } : {}),
      host_key_policy: ssh.hostKeyPolicy,
      ...(ssh.jumpHost ? { jump_host: ssh.jumpHost } : {}),
    };
    discovered = await deps.discover(lbs, sshDoc);
    for (const d of discovered) {
      log(`  ${describe(d)}`);
      if (d.facts) facts.set(d.lb, d.facts);
    }
    if (facts.size > 0) {
      const taken = [
        ...(o.vips ?? []).map((v) => v.split('/')[0]),
        ...(o.backends ?? []).map((b) => b.replace(/^[^=]*=/, '').replace(/:\d+$/, '')),
      ];
      proposal = propose(lbs, facts, mode, taken);
      for (const n of proposal.notes) log(`  note: ${n}`);
    }
  }

  // The VRRP interface.
  let iface = o.interface;
  if (iface === undefined && ask) {
    const why = proposal?.lbs.find((p) => p.iface === proposal!.interface)?.why;
    iface = await ask.input({
      id: 'interface',
      message: `VRRP interface${why ? ` (proposed: ${why})` : ''}`,
      default: proposal?.interface,
      validate: (s) => (/^[A-Za-z0-9_][A-Za-z0-9_.@-]{0,14}$/.test(s) ? true : 'not an interface name'),
    });
  }
  iface ??= proposal?.interface;
  if (!iface)
    missing.push(`--interface NAME (${o.discover === false ? 'discovery is off' : 'discovery could not propose one'})`);
  const lbsFinal =
    lbs && iface ? lbDetails(lbs, iface, facts, iface === proposal?.interface ? proposal : undefined) : lbs;
  const anchor = lbsFinal
    ?.map((l) =>
      facts.has(l.name)
        ? ownAddress(facts.get(l.name)!, l.interface ?? iface ?? '', l.vrrpAddress ?? l.address)
        : undefined,
    )
    .find(Boolean);

  // VIPs: address, VRID and priorities each.
  const vips: VipAnswer[] = [];
  const n = vipCount(mode);
  const givenVips = (o.vips ?? []).flatMap(splitList).map((v) => must(parseVip(v), '--vip'));
  const givenVrids = o.vrids ?? [];
  for (const v of givenVrids) must(parseVrid(String(v)), '--vrid');
  if (givenVips.length > n)
    throw new UserError(`--vip: ${mode} takes ${n} VIP${n > 1 ? 's' : ''}, ${givenVips.length} given`, EXIT.usage);
  const seen = new Set(proposal?.seenVrids.keys() ?? []);
  const masters = lbs
    ? mastersFor(
        mode,
        lbs.map((l) => l.name),
      )
    : [];
  const proposedVips = [...(proposal?.vips ?? [])];
  for (let i = 0; i < n; i++) {
    const id = `vip${i + 1}`;
    let address: string | undefined = givenVips[i];
    const vipDefault = proposedVips.find((p) => !givenVips.includes(p) && !vips.some((v) => v.address === p));
    if (address === undefined && ask) {
      address = await ask.input({
        id: `${id}.address`,
        message: `${id}: address/prefix${masters[i] ? ` (master ${masters[i]})` : ''}${vipDefault ? ' (proposed: free in the subnet)' : ''}`,
        default: vipDefault,
        validate: (s) => {
          const p = parseVip(s);
          if (!p.ok) return p.error;
          const ip = p.value.split('/')[0];
          if (anchor && !sameSubnet({ ip: anchor.ip, prefix: anchor.prefix }, ip))
            return `${ip} is not in the load balancers' subnet ${anchor.ip}/${anchor.prefix}`;
          if (vips.some((v) => v.address.split('/')[0] === ip))
            return `${ip} is already ${vips.find((v) => v.address.split('/')[0] === ip)!.name}`;
          return true;
        },
      });
      address = must(parseVip(address), id);
    }
    address ??= vipDefault;
    if (address === undefined) {
      missing.push(`--vip ADDRESS/PREFIX${n > 1 ? ` (${n} for ${mode})` : ''}`);
      break;
    }
    const used = new Set([...seen, ...givenVrids, ...vips.map((v) => v.vrid)]);
    const vridDefault = proposeVrids(used, 1)[0];
    let vrid: number | undefined = givenVrids[i];
    if (vrid === undefined && ask) {
      const text = await ask.input({
        id: `${id}.vrid`,
        message: `${id}: VRID (virtual_router_id)${seen.size ? ` (seen on the segment: ${[...seen].sort((a, b) => a - b).join(', ')})` : ''}`,
        default: String(vridDefault),
        validate: (s) => {
          const p = parseVrid(s);
          if (!p.ok) return p.error;
          return vips.some((v) => v.vrid === p.value)
            ? `VRID ${p.value} is already ${vips.find((v) => v.vrid === p.value)!.name}'s`
            : true;
        },
      });
      vrid = must(parseVrid(text), id);
    }
    vrid ??= vridDefault;
    if (seen.has(vrid))
      log(
        `  warning: VRID ${vrid} is already in use on the segment (${proposal!.seenVrids.get(vrid)!.join('; ')}); two VRRP instances with one VRID fight over it`,
      );
    const vip: VipAnswer = { name: id, address, vrid, master: masters[i] ?? '', priorities: {} };
    if (lbs) {
      const names = lbs.map((l) => l.name);
      const proposed = proposePriorities(names, masters[i]);
      let prio =
        o.priorities?.[i] !== undefined ? must(parsePriorities(o.priorities[i], names), '--priorities') : undefined;
      if (!prio && ask) {
        const text = await ask.input({
          id: `${id}.priorities`,
          message: `${id}: priorities (the highest holds the VIP)`,
          default: formatPriorities(proposed),
          validate: check((s) => parsePriorities(s, names)),
        });
        prio = must(parsePriorities(text, names), id);
      }
      vip.priorities = prio ?? proposed;
      vip.master = Object.entries(vip.priorities).sort((a, b) => b[1] - a[1])[0][0];
    }
    vips.push(vip);
  }

  // Backends and the site.
  let backends: BackendAnswer[] | undefined = o.backends?.length
    ? must(parseBackends(o.backends.flatMap(splitList)), '--backend')
    : undefined;
  if (!backends && ask) {
    const text = await ask.input({
      id: 'backends',
      message: 'Backend web servers ([name=]address[:port], separated by spaces)',
      validate: check((s) => parseBackends(splitList(s))),
    });
    backends = must(parseBackends(splitList(text)), 'backends');
  }
  if (!backends) missing.push('--backend [NAME=]ADDRESS[:PORT] (at least one)');

  let serverNames = o.serverNames?.length
    ? must(parseServerNames(o.serverNames.flatMap(splitList)), '--server-name')
    : undefined;
  if (!serverNames && ask) {
    const text = await ask.input({
      id: 'serverNames',
      message: 'Server names of the site (separated by spaces)',
      validate: check((s) => parseServerNames(splitList(s))),
    });
    serverNames = must(parseServerNames(splitList(text)), 'server names');
  }
  if (!serverNames) missing.push('--server-name NAME (at least one)');

  let healthPath = o.healthPath;
  if (healthPath === undefined && ask)
    healthPath = await ask.input({
      id: 'healthPath',
      message: 'Health check path on the backends',
      default: '/',
      validate: (s) => (/^\/[A-Za-z0-9_./~%+=,@-]*$/.test(s) ? true : 'a path such as /health'),
    });
  healthPath ??= '/';

  let passEnv = o.vrrpPassEnv;
  if (passEnv === undefined && ask)
    passEnv = await ask.input({
      id: 'vrrpPassEnv',
      message: 'Environment variable holding the VRRP password (empty: no VRRP authentication)',
      default: DEFAULT_PASS_ENV,
      validate: (s) => (s === '' || /^[A-Za-z_][A-Za-z0-9_]*$/.test(s) ? true : 'not a variable name'),
    });
  passEnv ??= DEFAULT_PASS_ENV;

  if (missing.length > 0)
    throw new UserError(
      `missing answers, and there is no terminal to ask them (or --yes was given):\n${missing.map((m) => `  ${m}`).join('\n')}\nnothing was written`,
      EXIT.usage,
    );

  const answers: InitAnswers = {
    cluster,
    ssh,
    mode,
    interface: iface!,
    lbs: lbsFinal!,
    vips,
    backends: backends!,
    serverNames: serverNames!,
    healthPath,
    ...(passEnv ? { vrrpPassEnv: passEnv } : {}),
  };
  const { text, problems } = checkedInventoryYaml(answers, file, env);
  writeInventory(file, text, overwrite);
  const next = [
    ...(passEnv && env[passEnv] === undefined
      ? [
          `export ${passEnv}=$(head -c 6 /dev/urandom | base64)   # the VRRP password, at most 8 characters; keep it for later deploys`,
        ]
      : []),
    `hactl deploy -i ${file} --dry-run`,
  ];
  return { file, text, answers, discovered, proposal, warnings: problems, next };
}
