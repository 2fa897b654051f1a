/**
 * A simulated load balancer behind a FakeTransport: it answers the facts script from its
 * state and "applies" an apply script by reading the files it carries, so runner tests can
 * check order, idempotence and failure handling without SSH.
 */
import { createHash } from 'node:crypto';
import { FakeTransport, failed, ok } from '../../src/transport/fake.js';
import type { ExecResult } from '../../src/transport/transport.js';
import { LOCK_EXIT_HELD } from '../../src/run/lock.js';

export interface FakeHostState {
  files: Map<string, { content: string; mode: string }>;
  packages: Set<string>;
  running: { keepalived: boolean; nginx: boolean };
  nonlocalBind: string;
  links: string[];
  addresses: string[]; // "eth0 inet 10.0.0.11/24"
  vrrp: Record<string, string>;
  lockHeldBy?: string;
  /** VIPs this host takes when keepalived starts (a stand-in for VRRP). */
  masterOf: { name: string; cidr: string; iface: string }[];
  backupOf: string[];
}

export class FakeHost {
  readonly transport: FakeTransport;
  readonly applied: string[] = [];
  /** Make the next apply fail validation with this output (exit 10). */
  failValidation?: string;

  constructor(
    readonly name: string,
    readonly state: FakeHostState,
    readonly log: string[],
  ) {
    this.transport = new FakeTransport(name);
    this.transport.on(
      (s) => s.includes('flock'),
      () => this.lockAndFacts(),
    );
    this.transport.on(
      (s) => s.includes('apply.sh'),
      (_s, stdin) => this.apply(String(stdin)),
    );
    this.transport.on(
      (s) => s.includes('echo @@os'),
      () => ok(this.facts()),
    );
  }

  static create(name: string, iface: string, cidr: string, log: string[], over: Partial<FakeHostState> = {}): FakeHost {
    return new FakeHost(
      name,
      {
        files: new Map(),
        packages: new Set(['keepalived', 'nginx', 'curl']),
        running: { keepalived: false, nginx: false },
        nonlocalBind: '0',
        links: ['lo', iface],
        addresses: [`${iface} inet ${cidr}`],
        vrrp: {},
        masterOf: [],
        backupOf: [],
        ...over,
      },
      log,
    );
  }

  facts(): string {
    const s = this.state;
    const lines = ['@@os', 'id=debian', 'like=', 'version=12', '@@pm', 'apt-get', '@@sm', 'sysvinit', '@@pkgs'];
    for (const p of ['keepalived', 'nginx', 'curl']) lines.push(`${p} ${s.packages.has(p) ? 1 : 0}`);
    lines.push(
      '@@sysctl',
      `ipv4/ip_nonlocal_bind ${s.nonlocalBind}`,
      '@@links',
      ...s.links.map((l) => ` ${l}`),
      '@@addr',
    );
    s.addresses.forEach((a, i) => {
      const [iface, fam, cidr] = a.split(' ');
      lines.push(
        `${i + 1}: ${iface}    ${fam} ${cidr} scope global ${iface}\\       valid_lft forever preferred_lft forever`,
      );
    });
    lines.push('@@files');
    for (const [path, f] of s.files) {
      const sha = createHash('sha256').update(f.content).digest('hex');
      lines.push(`${path} 1 ${f.mode.replace(/^0/, '')} root root ${sha} ${Buffer.from(f.content).toString('base64')}`);
    }
    lines.push('@@procs', `keepalived ${s.running.keepalived ? 1 : 0}`, `nginx ${s.running.nginx ? 1 : 0}`, '@@vrrp');
    for (const [k, v] of Object.entries(s.vrrp)) lines.push(`${k} ${v} 100 0`);
    lines.push('@@status', s.running.nginx && s.files.size ? `ok ${this.name}` : '', '@@end', '');
    return lines.join('\n');
  }

  lockAndFacts(): ExecResult {
    if (this.state.lockHeldBy) return failed(LOCK_EXIT_HELD, '', `@@lock held\n${this.state.lockHeldBy}\n`);
    return ok(`@@lock acquired\n${this.facts()}`);
  }

  apply(script: string): ExecResult {
    this.log.push(`apply ${this.name}`);
    this.applied.push(script);
    if (this.failValidation)
      return failed(10, `nginx -t failed (exit 1):\n${this.failValidation}`, '@@swap\n@@validate\n');
    const staged = new Map<number, string>();
    for (const m of script.matchAll(/base64 -d > "\$d\/new\/(\d+)" <<'HACTL_EOF'\n([\s\S]*?)\nHACTL_EOF/g))
      staged.set(Number(m[1]), Buffer.from(m[2].replace(/\n/g, ''), 'base64').toString('utf8'));
    for (const m of script.matchAll(/cp "\$d\/new\/(\d+)" (\S+)\.hactl-new && chmod (\d+)/g))
      this.state.files.set(m[2].replace(/^'|'$/g, ''), { content: staged.get(Number(m[1]))!, mode: m[3] });
    if (/sysctl -qw/.test(script)) this.state.nonlocalBind = '1';
    if (/step start nginx/.test(script)) this.state.running.nginx = true;
    if (/step start keepalived/.test(script)) {
      this.state.running.keepalived = true;
      for (const v of this.state.masterOf) {
        this.state.vrrp[v.name] = 'MASTER';
        this.state.addresses.push(`${v.iface} inet ${v.cidr}`);
      }
      for (const name of this.state.backupOf) this.state.vrrp[name] = 'BACKUP';
    }
    return ok([...script.matchAll(/^step (.*)$/gm)].map((m) => `@@${m[1]}`).join('\n'));
  }
}
