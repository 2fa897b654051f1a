/**
 * Sandbox load balancers for the unit and cli tiers: each host is a temporary directory that
 * the production scripts treat as its root ("$R"), with stand-in commands on PATH
 * (test/helpers/sandbox-bin: ip, service, keepalived, nginx, curl, apt-get, sysctl, …) that
 * keep the host's state in files under that root. Every script hactl sends (facts, the lock,
 * the apply transaction, health waits, the VIP watch) runs for real under `sh`; only the
 * kernel and the daemons are stand-ins. No SSH, no root, no network.
 */
import { spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Cluster, Inventory, LoadBalancer } from '../../src/inventory/model.js';
import {
  TransportError,
  type ExecOptions,
  type ExecResult,
  type LbConnector,
  type Transport,
} from '../../src/transport/transport.js';
import type { HttpClient, HttpResult, TlsPeer, TlsTarget } from '../../src/util/http.js';
import { HOST_PATHS } from '../../src/remote/paths.js';
import { dnsNames, parseChain, sanCovers, summarize } from '../../src/util/x509.js';
import { ROOT } from './inventory.js';

export const SANDBOX_BIN = join(ROOT, 'test', 'helpers', 'sandbox-bin');
/** Stand-ins of the programs deploy installs: on a host's PATH only once "installed". */
export const MANAGED = ['keepalived', 'nginx'] as const;

export interface SandboxCall {
  script: string;
  stdin?: string;
}

export interface HostSetup {
  iface: string;
  /** The host's own address with prefix. */
  cidr: string;
  /** Programs installed before the first deploy. Default: all three. */
  installed?: readonly string[];
  /** VIPs this host takes when keepalived starts: the stand-in for VRRP. */
  masterOf?: { vip: string; cidr: string }[];
  backupOf?: string[];
  /** nginx built under /application/nginx (config in /app/nginx/conf) instead of the package. */
  prefixNginx?: boolean;
}

export class SandboxHost implements Transport {
  readonly calls: SandboxCall[] = [];
  closed = false;
  private failure?: TransportError;
  /** Runs before each exec (tests hook in here: abort, cut the connection…). */
  beforeExec?: (script: string) => void;

  constructor(
    readonly name: string,
    readonly rootPrefix: string,
    private readonly net: string,
    private readonly journal: { host: string; script: string }[] = [],
  ) {}

  get roundTrips(): number {
    return this.calls.length;
  }

  get state(): string {
    return join(this.rootPrefix, '.sandbox');
  }

  /** A file on the host (path as on the host). */
  read(path: string): string | undefined {
    const f = join(this.rootPrefix, path);
    return existsSync(f) ? readFileSync(f, 'utf8') : undefined;
  }

  write(path: string, content: string): void {
    const f = join(this.rootPrefix, path);
    mkdirSync(join(f, '..'), { recursive: true });
    writeFileSync(f, content);
  }

  /** Lines the stand-ins logged (service starts, reloads, apt-get, sysctl). */
  log(): string[] {
    return (this.read('/.sandbox/log') ?? '').split('\n').filter(Boolean);
  }

  running(program: 'keepalived' | 'nginx'): boolean {
    return existsSync(join(this.rootPrefix, 'proc', program === 'keepalived' ? '5000001' : '5000002', 'comm'));
  }

  addresses(): string[] {
    return (this.read('/.sandbox/addrs') ?? '').split('\n').filter(Boolean);
  }

  /** Runs a command on the host as an operator's shell would (outside hactl's connections). */
  shell(script: string): Promise<ExecResult> {
    return runSh(script, {}, this.env());
  }

  private env(): NodeJS.ProcessEnv {
    return {
      PATH: `${join(this.state, 'bin')}:${SANDBOX_BIN}:/usr/bin:/bin`,
      HACTL_SANDBOX: this.rootPrefix,
      HACTL_SANDBOX_NET: this.net,
      HACTL_SANDBOX_BIN: SANDBOX_BIN,
      // What sshd gives a session (the isolate fault keeps this connection open).
      SSH_CONNECTION: '10.0.0.1 50022 10.0.0.200 22',
      LANG: 'C.UTF-8',
    };
  }

  /** Every later exec rejects like a dropped connection (or `kind`), until cleared. */
  failWith(kind: TransportError['kind'] | undefined, message = 'connection lost (sandbox)'): void {
    this.failure = kind ? new TransportError(this.name, kind, message) : undefined;
  }

  exec(script: string, opts: ExecOptions = {}): Promise<ExecResult> {
    this.calls.push({ script, ...(typeof opts.stdin === 'string' ? { stdin: opts.stdin } : {}) });
    this.journal.push({ host: this.name, script });
    this.beforeExec?.(script);
    if (opts.signal?.aborted) return Promise.reject(opts.signal.reason);
    if (this.closed) return Promise.reject(new TransportError(this.name, 'closed', 'exec after close()'));
    if (this.failure) return Promise.reject(this.failure);
    return runSh(script, opts, this.env());
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

function runSh(script: string, opts: ExecOptions, env: NodeJS.ProcessEnv): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', script], { env, stdio: 'pipe', detached: true });
    let stdout = '';
    let stderr = '';
    let timer: NodeJS.Timeout | undefined;
    const kill = () => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* gone */
      }
    };
    const onAbort = () => {
      child.stdin.end();
      setTimeout(kill, 200).unref();
    };
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    if (opts.timeoutMs) timer = setTimeout(kill, opts.timeoutMs);
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      opts.onStdout?.(d.toString());
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      opts.onStderr?.(d.toString());
    });
    child.stdin.on('error', () => undefined);
    if (opts.stdin !== undefined) child.stdin.end(opts.stdin);
    else if (!opts.holdStdin) child.stdin.end();
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      resolve({ code: code ?? 255, stdout, stderr, ...(signal ? { signal } : {}) });
    });
  });
}

/** The certificate a sandbox host "serves" for an SNI name: its TLS file covering the name. */
function servedTls(host: SandboxHost, t: TlsTarget): TlsPeer {
  const dir = join(host.rootPrefix, HOST_PATHS.tlsDir);
  const chains = (existsSync(dir) ? readdirSync(dir) : [])
    .filter((f) => f.endsWith('.crt'))
    .map((f) => parseChain(readFileSync(join(dir, f), 'utf8')));
  const chain = chains.find((c) => dnsNames(c[0]).some((san) => sanCovers(san, t.servername))) ?? chains[0];
  if (!chain) return { authorized: false, authorizationError: 'no certificate' };
  const trusted = t.ca ? parseChain(t.ca) : [];
  const last = chain[chain.length - 1];
  const authorized = trusted.some((c) => last.checkIssued(c) && last.verify(c.publicKey));
  return {
    authorized,
    ...(authorized ? {} : { authorizationError: 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY' }),
    protocol: 'TLSv1.3',
    certificate: summarize(chain[0]),
  };
}

/** "" or ":8443" when the host's nginx redirects port 80 to HTTPS; undefined when it does not. */
function redirectPort(host: SandboxHost): string | undefined {
  const dir = join(host.rootPrefix, HOST_PATHS.nginxConfDir);
  for (const f of existsSync(dir) ? readdirSync(dir) : []) {
    const m = /return 301 https:\/\/\$host(:\d+)?\$request_uri;/.exec(readFileSync(join(dir, f), 'utf8'));
    if (m) return m[1] ?? '';
  }
  return undefined;
}

/** A set of sandbox hosts sharing one "network" (who holds which VIP, which backends are down). */
export class Sandbox {
  readonly dir = mkdtempSync(join(tmpdir(), 'hactl-sandbox-'));
  readonly hosts = new Map<string, SandboxHost>();
  readonly net = join(this.dir, 'net');
  /** Every exec on every host, in order. */
  readonly journal: { host: string; script: string }[] = [];

  constructor() {
    mkdirSync(join(this.net, 'down'), { recursive: true });
    writeFileSync(join(this.net, 'roots'), '');
    writeFileSync(join(this.net, 'vips'), '');
  }

  add(name: string, setup: HostSetup): SandboxHost {
    const root = join(this.dir, name);
    const state = join(root, '.sandbox');
    mkdirSync(join(state, 'bin'), { recursive: true });
    mkdirSync(join(root, 'proc', 'sys', 'net', 'ipv4'), { recursive: true });
    writeFileSync(join(root, 'proc', 'sys', 'net', 'ipv4', 'ip_nonlocal_bind'), '0\n');
    mkdirSync(join(root, 'etc', 'nginx', 'conf.d'), { recursive: true });
    writeFileSync(join(root, 'etc', 'os-release'), 'ID=debian\nVERSION_ID="12"\nVERSION_CODENAME=bookworm\n');
    writeFileSync(join(state, 'addrs'), `${setup.iface} inet ${setup.cidr}\n`);
    writeFileSync(
      join(state, 'master-of'),
      (setup.masterOf ?? []).map((v) => `${v.vip} ${setup.iface} ${v.cidr}\n`).join(''),
    );
    writeFileSync(join(state, 'backup-of'), (setup.backupOf ?? []).join('\n'));
    const installed = setup.installed ?? (setup.prefixNginx ? ['keepalived'] : MANAGED);
    for (const p of installed) symlinkSync(join(SANDBOX_BIN, 'managed', p), join(state, 'bin', p));
    if (setup.prefixNginx) {
      mkdirSync(join(root, 'application/nginx/sbin'), { recursive: true });
      symlinkSync(join(SANDBOX_BIN, 'managed', 'nginx-prefix'), join(root, 'application/nginx/sbin/nginx'));
      mkdirSync(join(root, 'app/nginx/conf/conf.d'), { recursive: true });
      writeFileSync(join(root, 'app/nginx/conf/nginx.conf'), 'http {\n    include /app/nginx/conf/conf.d/*.conf;\n}\n');
    }
    writeFileSync(join(this.net, 'roots'), `${readFileSync(join(this.net, 'roots'), 'utf8')}${root}\n`);
    const host = new SandboxHost(name, root, this.net, this.journal);
    this.hosts.set(name, host);
    return host;
  }

  /** One sandbox host per load balancer of the inventory, mastering what the inventory says. */
  static forInventory(
    inv: Inventory,
    over: (lb: LoadBalancer, c: Cluster) => Partial<HostSetup> = () => ({}),
  ): Sandbox {
    const sb = new Sandbox();
    for (const c of inv.clusters) {
      writeFileSync(
        join(sb.net, 'vips'),
        `${readFileSync(join(sb.net, 'vips'), 'utf8')}${c.vips.map((v) => `${v.ip}\n`).join('')}`,
      );
      for (const lb of c.lbs)
        sb.add(lb.name, {
          iface: lb.interface,
          cidr: `${lb.vrrpAddress ?? lb.address}/24`,
          masterOf: c.vips.filter((v) => v.master === lb.name).map((v) => ({ vip: v.name, cidr: v.cidr })),
          backupOf: c.vips.filter((v) => v.master !== lb.name).map((v) => v.name),
          ...over(lb, c),
        });
    }
    return sb;
  }

  host(name: string): SandboxHost {
    const h = this.hosts.get(name);
    if (!h) throw new Error(`no sandbox host ${name}`);
    return h;
  }

  /** Connects to the sandbox host of the same name (a new "connection" each time). */
  connector(): LbConnector {
    return async (lb) => {
      const h = this.host(lb.name);
      h.closed = false;
      return h;
    };
  }

  /**
   * HTTP from the operator machine: a VIP answers when a host holding it runs nginx. Over TLS
   * it serves the certificate file on the holder's disk whose names cover the SNI name; port 80
   * redirects when the holder's nginx configuration has hactl's redirect server.
   */
  http(): HttpClient {
    return async (t): Promise<HttpResult> => {
      const holder = [...this.hosts.values()].find((h) =>
        h.addresses().some((a) => a.split(' ')[2]?.startsWith(`${t.ip}/`)),
      );
      if (!holder?.running('nginx')) return { status: 0, error: 'ECONNREFUSED', ms: 0.2, body: '', headers: {} };
      const headers = { 'x-hactl-lb': holder.name };
      if (t.tls)
        return { status: 200, ms: 0.5, body: `backend via ${holder.name}\n`, headers, tls: servedTls(holder, t.tls) };
      const redirect = t.port === 80 ? redirectPort(holder) : undefined;
      if (redirect !== undefined)
        return {
          status: 301,
          ms: 0.5,
          body: '',
          headers: { ...headers, location: `https://${t.host}${redirect}${t.path}` },
        };
      return { status: 200, ms: 0.5, body: `backend via ${holder.name}\n`, headers };
    };
  }

  /** Hosts that received an apply transaction, in order. */
  applied(): string[] {
    return this.journal.filter((e) => e.script.includes('apply.sh')).map((e) => e.host);
  }

  backendDown(ip: string, down = true): void {
    const f = join(this.net, 'down', ip);
    if (down) writeFileSync(f, '');
    else rmSync(f, { force: true });
  }

  remove(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}
