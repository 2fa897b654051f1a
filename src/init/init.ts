/**
 * `hactl init`: answers from flags, proposals from discovery, the rest from the operator (when
 * there is a Prompter) or a usage error naming the missing flags (when there is none, so a
 * script without a terminal never hangs). The result is validated before anything is written,
 * and an existing file is replaced only with --force or the operator's yes.
 */
import { RefusedError, UsageError } from '../errors.js';
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
  type HostKeyPolicy,
  type InitAnswers,
  type LbAnswer,
  type Parsed,
  type SshAnswers,
  type VipAnswer,
} from './answers.js';
import type { Discovered, Discoverer } from './discover.js';
import type { DiscoveryFacts as HostFacts } from '../remote/sections/discovery.js';
import { checkedInventoryYaml } from './inventory-yaml.js';
import { mayWrite, writeInventory } from './write-file.js';
import type { SshDoc } from '../inventory/schema.js';
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
import type { Prompter } from '../cli/prompter.js';

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
  if (!p.ok) throw new UsageError(`${flag}: ${p.error}`);
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

/** One text answer: the flag, else the operator's (re-asked until valid), else the fallback, else missing. */
interface TextQuestion<T> {
  id: string;
  message: string;
  /** A value the flags already gave (taken as it is). */
  given?: T;
  /** A flag's text, parsed here. */
  flag?: string;
  flagName?: string;
  parse: (s: string) => Parsed<T>;
  default?: string;
  /** Without a terminal: this value, or (absent) a missing-flag line. */
  fallback?: T;
  missing?: string;
}

/** The wizard's state while it asks: what it has, what it lacks, whom it can ask. */
class Wizard {
  readonly missing: string[] = [];
  readonly facts = new Map<string, HostFacts>();
  discovered: Discovered[] = [];
  proposal?: Proposal;

  constructor(
    readonly o: InitOptions,
    readonly ask: Prompter | undefined,
    readonly log: (line: string) => void,
  ) {}

  async text<T>(q: TextQuestion<T>): Promise<T | undefined> {
    if (q.given !== undefined) return q.given;
    if (q.flag !== undefined) return must(q.parse(q.flag), q.flagName ?? q.id);
    if (this.ask) {
      const value = await this.ask.input({
        id: q.id,
        message: q.message,
        ...(q.default !== undefined ? { default: q.default } : {}),
        validate: check(q.parse),
      });
      return must(q.parse(value), q.id);
    }
    if (q.fallback !== undefined) return q.fallback;
    if (q.missing) this.missing.push(q.missing);
    return undefined;
  }

  async select<T extends string>(
    id: string,
    message: string,
    given: T | undefined,
    choices: { value: T; name: string }[],
  ): Promise<T> {
    if (given !== undefined || !this.ask) return given ?? choices[0].value;
    return this.ask.select<T>({ id, message, default: choices[0].value, choices });
  }

  async ssh(): Promise<SshAnswers> {
    const o = this.o;
    const any = (s: string): Parsed<string> => ({ ok: true, value: s });
    const user = await this.text({
      id: 'user',
      message: 'SSH user (not root: commands run through sudo -n)',
      given: o.user,
      default: 'root',
      fallback: 'root',
      parse: (s) =>
        /^[a-z_][a-z0-9_.-]{0,31}\$?$/.test(s) ? { ok: true, value: s } : { ok: false, error: 'not a valid user name' },
    });
    const ssh: SshAnswers = { user: user ?? 'root', hostKeyPolicy: 'accept-new' };
    if (o.port !== undefined) ssh.port = o.port;
    const identity = await this.text({
      id: 'identityFile',
      message: 'SSH private key file (empty: the ssh-agent and ~/.ssh/id_*)',
      given: o.identityFile,
      default: '',
      fallback: '',
      parse: any,
    });
    if (identity) ssh.identityFile = identity;
    const knownHosts = await this.text({
      id: 'knownHosts',
      message: 'known_hosts file',
      given: o.knownHosts,
      default: '~/.ssh/known_hosts',
      fallback: '',
      parse: any,
    });
    if (knownHosts && knownHosts !== '~/.ssh/known_hosts') ssh.knownHosts = knownHosts;
    ssh.hostKeyPolicy = await this.select<HostKeyPolicy>('hostKeyPolicy', 'Unknown host keys', o.hostKeyPolicy, [
      { value: 'accept-new', name: "accept-new: record a host's key the first time (a changed key is refused)" },
      { value: 'strict', name: 'strict: only hosts already in known_hosts' },
    ]);
    if (o.jumpHost) ssh.jumpHost = o.jumpHost;
    return ssh;
  }

  /** Reads every reachable load balancer and proposes interface, VIPs, VRIDs. */
  async discover(lbs: LbAnswer[], ssh: SshAnswers, mode: Mode, discoverer: Discoverer): Promise<void> {
    this.log(`Discovering ${lbs.map((l) => `${l.name} (${l.address})`).join(', ')} over SSH…`);
    this.discovered = await discoverer(lbs, sshDoc(ssh));
    for (const d of this.discovered) {
      this.log(`  ${describe(d)}`);
      if (d.facts) this.facts.set(d.lb, d.facts);
    }
    if (this.facts.size === 0) return;
    const taken = [
      ...(this.o.vips ?? []).map((v) => v.split('/')[0]),
      ...(this.o.backends ?? []).map((b) => b.replace(/^[^=]*=/, '').replace(/:\d+$/, '')),
    ];
    this.proposal = propose(lbs, this.facts, mode, taken);
    for (const n of this.proposal.notes) this.log(`  note: ${n}`);
  }

  async iface(): Promise<string | undefined> {
    const p = this.proposal;
    const why = p?.lbs.find((x) => x.iface === p.interface)?.why;
    const iface = await this.text({
      id: 'interface',
      message: `VRRP interface${why ? ` (proposed: ${why})` : ''}`,
      given: this.o.interface,
      ...(p?.interface ? { default: p.interface, fallback: p.interface } : {}),
      parse: (s) =>
        /^[A-Za-z0-9_][A-Za-z0-9_.@-]{0,14}$/.test(s)
          ? { ok: true, value: s }
          : { ok: false, error: 'not an interface name' },
      missing: `--interface NAME (${this.o.discover === false ? 'discovery is off' : 'discovery could not propose one'})`,
    });
    return iface;
  }

  /** VIP i: its address (in the load balancers' subnet, not taken), VRID (not seen) and priorities. */
  async vip(i: number, ctx: VipContext, vips: VipAnswer[]): Promise<VipAnswer | undefined> {
    const id = `vip${i + 1}`;
    const master = ctx.masters[i];
    const vipDefault = ctx.proposed.find((p) => !ctx.givenVips.includes(p) && !vips.some((v) => v.address === p));
    const address = await this.text({
      id: `${id}.address`,
      message: `${id}: address/prefix${master ? ` (master ${master})` : ''}${vipDefault ? ' (proposed: free in the subnet)' : ''}`,
      given: ctx.givenVips[i],
      ...(vipDefault ? { default: vipDefault, fallback: vipDefault } : {}),
      parse: (s) => vipAddress(s, ctx.anchor, vips),
      missing: `--vip ADDRESS/PREFIX${ctx.n > 1 ? ` (${ctx.n} for ${ctx.mode})` : ''}`,
    });
    if (address === undefined) return undefined;
    const used = new Set([...ctx.seen, ...ctx.givenVrids, ...vips.map((v) => v.vrid)]);
    const vridDefault = proposeVrids(used, 1)[0];
    const seenList = [...ctx.seen].sort((a, b) => a - b).join(', ');
    const vrid =
      (await this.text({
        id: `${id}.vrid`,
        message: `${id}: VRID (virtual_router_id)${ctx.seen.size ? ` (seen on the segment: ${seenList})` : ''}`,
        given: ctx.givenVrids[i],
        default: String(vridDefault),
        fallback: vridDefault,
        parse: (s) => vridAnswer(s, vips),
      })) ?? vridDefault;
    if (ctx.seen.has(vrid))
      this.log(
        `  warning: VRID ${vrid} is already in use on the segment (${this.proposal?.seenVrids.get(vrid)?.join('; ')}); two VRRP instances with one VRID fight over it`,
      );
    const vip: VipAnswer = { name: id, address, vrid, master: master ?? '', priorities: {} };
    if (ctx.names.length === 0) return vip;
    const proposed = proposePriorities(ctx.names, master);
    const prio = await this.text({
      id: `${id}.priorities`,
      message: `${id}: priorities (the highest holds the VIP)`,
      flag: this.o.priorities?.[i],
      flagName: '--priorities',
      default: formatPriorities(proposed),
      fallback: proposed,
      parse: (s) => parsePriorities(s, ctx.names),
    });
    vip.priorities = prio ?? proposed;
    vip.master = Object.entries(vip.priorities).sort((a, b) => b[1] - a[1])[0][0];
    return vip;
  }

  async vips(mode: Mode, lbs: LbAnswer[] | undefined, lbsFinal: LbAnswer[] | undefined, iface: string | undefined) {
    const n = vipCount(mode);
    const givenVips = (this.o.vips ?? []).flatMap(splitList).map((v) => must(parseVip(v), '--vip'));
    const givenVrids = this.o.vrids ?? [];
    for (const v of givenVrids) must(parseVrid(String(v)), '--vrid');
    if (givenVips.length > n)
      throw new UsageError(`--vip: ${mode} takes ${n} VIP${n > 1 ? 's' : ''}, ${givenVips.length} given`);
    const anchor = lbsFinal
      ?.map((l) => {
        const f = this.facts.get(l.name);
        return f ? ownAddress(f, l.interface ?? iface ?? '', l.vrrpAddress ?? l.address) : undefined;
      })
      .find(Boolean);
    const names = lbs?.map((l) => l.name) ?? [];
    const ctx: VipContext = {
      n,
      mode,
      givenVips,
      givenVrids,
      anchor,
      names,
      masters: lbs ? mastersFor(mode, names) : [],
      proposed: [...(this.proposal?.vips ?? [])],
      seen: new Set(this.proposal?.seenVrids.keys() ?? []),
    };
    const vips: VipAnswer[] = [];
    for (let i = 0; i < n; i++) {
      const vip = await this.vip(i, ctx, vips);
      if (!vip) break;
      vips.push(vip);
    }
    return vips;
  }

  async site() {
    const o = this.o;
    const backends = await this.text({
      id: 'backends',
      message: 'Backend web servers ([name=]address[:port], separated by spaces)',
      flag: o.backends?.length ? o.backends.join(' ') : undefined,
      flagName: '--backend',
      parse: (s) => parseBackends(splitList(s)),
      missing: '--backend [NAME=]ADDRESS[:PORT] (at least one)',
    });
    const serverNames = await this.text({
      id: 'serverNames',
      message: 'Server names of the site (separated by spaces)',
      flag: o.serverNames?.length ? o.serverNames.join(' ') : undefined,
      flagName: '--server-name',
      parse: (s) => parseServerNames(splitList(s)),
      missing: '--server-name NAME (at least one)',
    });
    const healthPath = await this.text({
      id: 'healthPath',
      message: 'Health check path on the backends',
      given: o.healthPath,
      default: '/',
      fallback: '/',
      parse: (s) =>
        /^\/[A-Za-z0-9_./~%+=,@-]*$/.test(s) ? { ok: true, value: s } : { ok: false, error: 'a path such as /health' },
    });
    const passEnv = await this.text({
      id: 'vrrpPassEnv',
      message: 'Environment variable holding the VRRP password (empty: no VRRP authentication)',
      given: o.vrrpPassEnv,
      default: DEFAULT_PASS_ENV,
      fallback: DEFAULT_PASS_ENV,
      parse: (s) =>
        s === '' || /^[A-Za-z_][A-Za-z0-9_]*$/.test(s)
          ? { ok: true, value: s }
          : { ok: false, error: 'not a variable name' },
    });
    return { backends, serverNames, healthPath: healthPath ?? '/', passEnv: passEnv ?? DEFAULT_PASS_ENV };
  }
}

interface VipContext {
  n: number;
  mode: Mode;
  givenVips: string[];
  givenVrids: number[];
  anchor?: { ip: string; prefix: number };
  names: string[];
  masters: string[];
  proposed: string[];
  seen: Set<number>;
}

function vipAddress(s: string, anchor: VipContext['anchor'], vips: VipAnswer[]): Parsed<string> {
  const p = parseVip(s);
  if (!p.ok) return p;
  const ip = p.value.split('/')[0];
  if (anchor && !sameSubnet({ ip: anchor.ip, prefix: anchor.prefix }, ip))
    return { ok: false, error: `${ip} is not in the load balancers' subnet ${anchor.ip}/${anchor.prefix}` };
  const dup = vips.find((v) => v.address.split('/')[0] === ip);
  return dup ? { ok: false, error: `${ip} is already ${dup.name}` } : p;
}

function vridAnswer(s: string, vips: VipAnswer[]): Parsed<number> {
  const p = parseVrid(s);
  if (!p.ok) return p;
  const dup = vips.find((v) => v.vrid === p.value);
  return dup ? { ok: false, error: `VRID ${p.value} is already ${dup.name}'s` } : p;
}

function sshDoc(ssh: SshAnswers): SshDoc {
  return {
    user: ssh.user,
    ...(ssh.port ? { port: ssh.port } : {}),
    ...(ssh.identityFile ? { identity_file: ssh.identityFile } : {}),
    ...(ssh.knownHosts ? { known_hosts: ssh.knownHosts } : {}),
    host_key_policy: ssh.hostKeyPolicy,
    ...(ssh.jumpHost ? { jump_host: ssh.jumpHost } : {}),
  };
}

/** What to run next: export the password when its variable is not set yet, then a dry run. */
function nextSteps(file: string, passEnv: string, env: NodeJS.ProcessEnv): string[] {
  const exportPass = `export ${passEnv}=$(head -c 6 /dev/urandom | base64)   # the VRRP password, at most 8 characters; keep it for later deploys`;
  return [...(passEnv && env[passEnv] === undefined ? [exportPass] : []), `hactl deploy -i ${file} --dry-run`];
}

export async function runInit(o: InitOptions, deps: InitDeps): Promise<InitResult> {
  const env = deps.env ?? process.env;
  const file = o.output;
  const overwrite = await mayWrite(file, o.force ?? false, deps.prompter);
  const w = new Wizard(o, deps.prompter, deps.log);
  const cluster =
    (await w.text({
      id: 'cluster',
      message: 'Cluster name',
      flag: o.cluster,
      flagName: '--cluster',
      default: 'web',
      fallback: 'web',
      parse: (s) => parseName(s, 'cluster name'),
    })) ?? 'web';
  const lbs = await w.text({
    id: 'lbs',
    message: 'Load balancers (at least two, as name=address or address, separated by spaces)',
    flag: o.lbs?.length ? o.lbs.join(' ') : undefined,
    flagName: '--lb',
    parse: (s) => parseLbs(splitList(s)),
    missing: '--lb NAME=ADDRESS (at least two)',
  });
  const ssh = await w.ssh();
  const mode = await w.select<Mode>('mode', 'Mode', o.mode, [
    { value: 'active-passive', name: 'active-passive: one VIP, one master, the others stand by' },
    { value: 'dual-master', name: 'dual-master: two VIPs, each mastered by a different load balancer' },
  ]);
  if (lbs && o.discover !== false) await w.discover(lbs, ssh, mode, deps.discover);
  const iface = await w.iface();
  const proposal = iface === w.proposal?.interface ? w.proposal : undefined;
  const lbsFinal = lbs && iface ? lbDetails(lbs, iface, w.facts, proposal) : lbs;
  const vips = await w.vips(mode, lbs, lbsFinal, iface);
  const site = await w.site();
  if (w.missing.length > 0 || !iface || !lbsFinal || !site.backends || !site.serverNames)
    throw new RefusedError(
      `missing answers, and there is no terminal to ask them (or --yes was given):\n${w.missing.map((m) => `  ${m}`).join('\n')}\nnothing was written`,
    );
  const answers: InitAnswers = {
    cluster,
    ssh,
    mode,
    interface: iface,
    lbs: lbsFinal,
    vips,
    backends: site.backends,
    serverNames: site.serverNames,
    healthPath: site.healthPath,
    ...(site.passEnv ? { vrrpPassEnv: site.passEnv } : {}),
  };
  const { text, problems } = checkedInventoryYaml(answers, file, env);
  writeInventory(file, text, overwrite);
  const next = nextSteps(file, site.passEnv, env);
  return { file, text, answers, discovered: w.discovered, proposal: w.proposal, warnings: problems, next };
}
