/**
 * The apply transaction, run for real under sh against a sandbox root with stand-in
 * keepalived, nginx, service and sysctl: what each exit code promises is checked on the files.
 */
import { chmodSync, lstatSync, readdirSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  APPLY_EXIT,
  applyScript,
  bootstrapCommand,
  type ApplyRequest,
  type FileWrite,
} from '../../../src/remote/apply.js';
import { Sandbox, type SandboxHost } from '../../helpers/sandbox.js';

let sb: Sandbox;
let host: SandboxHost;
beforeEach(() => {
  sb = new Sandbox();
  host = sb.add('lb1', { iface: 'eth0', cidr: '10.0.0.11/24' });
  host.write('/etc/keepalived/keepalived.conf', 'old keepalived\n');
  chmodSync(join(host.rootPrefix, 'etc/keepalived/keepalived.conf'), 0o600);
  host.write('/etc/nginx/conf.d/hactl-web.conf', 'old nginx\n');
  // Both daemons run already, so the plan reloads them.
  host.write('/proc/5000001/comm', 'keepalived\n');
  host.write('/proc/5000002/comm', 'nginx\n');
});
afterEach(() => sb.remove());

const write = (path: string, content: string, mode = '0644'): FileWrite => ({
  action: 'update',
  path,
  content,
  mode,
  owner: 'root',
  group: 'root',
});

function request(over: Partial<ApplyRequest> = {}): ApplyRequest {
  return {
    host: 'lb1',
    changes: [
      write('/etc/keepalived/keepalived.conf', 'new keepalived\n', '0600'),
      write('/etc/keepalived/hactl-notify.sh', '#!/bin/sh\n', '0755'),
      write('/etc/nginx/conf.d/hactl-web.conf', 'new nginx\n'),
    ].map((c) => (c.path.endsWith('notify.sh') ? { ...c, action: 'create' as const } : c)),
    packages: [],
    sysctl: { 'net.ipv4.ip_nonlocal_bind': '1' },
    reloadSysctl: false,
    reload: ['nginx', 'keepalived'],
    start: [],
    serviceManager: 'sysvinit',
    packageManager: 'apt-get',
    validate: { keepalivedConf: '/etc/keepalived/keepalived.conf' },
    ...over,
  };
}

async function apply(req: ApplyRequest, mangle: (script: string) => string = (s) => s) {
  const script = applyScript(req, 'tok123', '20261201T000000', host.rootPrefix);
  return host.exec(bootstrapCommand('tok123', host.rootPrefix), { stdin: mangle(script) });
}

const mode = (path: string) => (statSync(join(host.rootPrefix, path)).mode & 0o777).toString(8);
const txnDirs = () => readdirSync(join(host.rootPrefix, 'var/lib/hactl')).filter((d) => d.startsWith('txn.'));
const services = () => host.log().filter((l) => l.startsWith('service '));

describe('the apply transaction under sh', () => {
  test('success: files in place with their modes, sysctl set, each service reloaded once, backups kept', async () => {
    const r = await apply(request());
    expect(r.stderr).toBe('');
    expect(r.code).toBe(APPLY_EXIT.ok);
    expect(host.read('/etc/keepalived/keepalived.conf')).toBe('new keepalived\n');
    expect(mode('/etc/keepalived/keepalived.conf')).toBe('600');
    expect(mode('/etc/keepalived/hactl-notify.sh')).toBe('755');
    expect(host.read('/proc/sys/net/ipv4/ip_nonlocal_bind')?.trim()).toBe('1');
    expect(services()).toEqual(['service nginx reload', 'service keepalived reload']);
    expect(host.read('/var/lib/hactl/backups/20261201T000000/etc/keepalived/keepalived.conf')).toBe('old keepalived\n');
    expect(txnDirs()).toEqual([]);
  });

  test('a validation failure restores every file byte for byte (a new one removed again) and reloads nothing', async () => {
    const req = request();
    req.changes = [...req.changes, write('/etc/nginx/conf.d/hactl-extra.conf', 'HACTL_INVALID\n')];
    const r = await apply(req);
    expect(r.code).toBe(APPLY_EXIT.validationFailed);
    expect(r.stderr).toMatch(/nginx -t failed \(exit 1\)/);
    expect(r.stderr).toMatch(/unknown directive "HACTL_INVALID"/);
    expect(host.read('/etc/keepalived/keepalived.conf')).toBe('old keepalived\n');
    expect(mode('/etc/keepalived/keepalived.conf')).toBe('600');
    expect(host.read('/etc/nginx/conf.d/hactl-web.conf')).toBe('old nginx\n');
    expect(host.read('/etc/nginx/conf.d/hactl-extra.conf')).toBeUndefined();
    expect(host.read('/etc/keepalived/hactl-notify.sh')).toBeUndefined();
    expect(services()).toEqual([]);
    expect(txnDirs()).toEqual([]);
  });

  test('keepalived -t refusing is reported with its own output', async () => {
    const req = request({ changes: [write('/etc/keepalived/keepalived.conf', 'HACTL_INVALID\n', '0600')] });
    const r = await apply(req);
    expect(r.code).toBe(APPLY_EXIT.validationFailed);
    expect(r.stderr).toMatch(/keepalived -t -f \/etc\/keepalived\/keepalived.conf failed \(exit 1\)/);
    expect(host.read('/etc/keepalived/keepalived.conf')).toBe('old keepalived\n');
  });

  test('an incomplete payload is refused and nothing changes', async () => {
    const r = await apply(request(), (s) => s.slice(0, Math.floor(s.length / 2)));
    expect(r.code).toBe(APPLY_EXIT.incomplete);
    expect(r.stderr).toMatch(/arrived incomplete; nothing was changed/);
    expect(host.read('/etc/keepalived/keepalived.conf')).toBe('old keepalived\n');
    expect(host.log()).toEqual([]);
  });

  test('a failing write (a stand-in mv that fails) is a write failure: old files intact, nothing reloaded', async () => {
    const bin = join(host.state, 'bin');
    writeFileSync(
      join(bin, 'mv'),
      `#!/bin/sh\ncase "$*" in *hactl-web.conf.hactl-new*) echo "mv: No space left on device" >&2; exit 1;; esac\nexec /bin/mv "$@"\n`,
    );
    chmodSync(join(bin, 'mv'), 0o755);
    const r = await apply(request());
    expect(r.code).toBe(APPLY_EXIT.writeFailed);
    expect(r.stderr).toMatch(/cannot write \/etc\/nginx\/conf.d\/hactl-web.conf/);
    expect(host.read('/etc/keepalived/keepalived.conf')).toBe('old keepalived\n');
    expect(host.read('/etc/nginx/conf.d/hactl-web.conf')).toBe('old nginx\n');
    expect(host.read('/etc/nginx/conf.d/hactl-web.conf.hactl-new')).toBeUndefined();
    expect(host.read('/etc/keepalived/hactl-notify.sh')).toBeUndefined();
    expect(services()).toEqual([]);
  });

  test('a failing backup copy never overwrites the untouched original', async () => {
    const bin = join(host.state, 'bin');
    writeFileSync(join(bin, 'cp'), `#!/bin/sh\ncase "$*" in *.part) : > "$3"; exit 1;; esac\nexec /bin/cp "$@"\n`);
    chmodSync(join(bin, 'cp'), 0o755);
    const r = await apply(request({ changes: [write('/etc/nginx/conf.d/hactl-web.conf', 'new nginx\n')] }));
    expect(r.code).toBe(APPLY_EXIT.writeFailed);
    expect(host.read('/etc/nginx/conf.d/hactl-web.conf')).toBe('old nginx\n');
  });

  test('a restore that fails too says so and keeps the transaction directory with the backups', async () => {
    const bin = join(host.state, 'bin');
    // Validation fails, and then every restoring mv fails.
    writeFileSync(join(bin, 'mv'), `#!/bin/sh\ncase "$*" in *.hactl-restore*) exit 1;; esac\nexec /bin/mv "$@"\n`);
    chmodSync(join(bin, 'mv'), 0o755);
    const r = await apply(request({ changes: [write('/etc/nginx/conf.d/hactl-web.conf', 'HACTL_INVALID\n')] }));
    expect(r.code).toBe(APPLY_EXIT.restoreFailed);
    expect(r.stderr).toMatch(/RESTORE FAILED/);
    const [txn] = txnDirs();
    expect(host.read(`/var/lib/hactl/${txn}/old/0`)).toBe('old nginx\n');
  });

  test('removing a symlink backs it up as a symlink and restores it as one when validation fails', async () => {
    symlinkSync('/usr/share/nginx/default', join(host.rootPrefix, 'etc/nginx/conf.d/hactl-link.conf'));
    const req = request({
      changes: [
        { ...write('/etc/nginx/conf.d/hactl-link.conf', ''), action: 'remove' },
        write('/etc/nginx/conf.d/hactl-web.conf', 'HACTL_INVALID\n'),
      ],
    });
    const r = await apply(req);
    expect(r.code).toBe(APPLY_EXIT.validationFailed);
    const link = join(host.rootPrefix, 'etc/nginx/conf.d/hactl-link.conf');
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readlinkSync(link)).toBe('/usr/share/nginx/default');
  });

  test('a service that does not reload: the new files stay (they are valid), exit says so', async () => {
    host.write('/.sandbox/fail-nginx-reload', '');
    const r = await apply(request());
    expect(r.code).toBe(APPLY_EXIT.serviceFailed);
    expect(r.stderr).toMatch(/reload nginx failed/);
    expect(host.read('/etc/nginx/conf.d/hactl-web.conf')).toBe('new nginx\n');
  });

  test('a failed package install changes no file', async () => {
    host.write('/.sandbox/apt-broken', '');
    const r = await apply(request({ packages: ['keepalived'] }));
    expect(r.code).toBe(APPLY_EXIT.packagesFailed);
    expect(r.stderr).toMatch(/Could not connect/);
    expect(host.read('/etc/keepalived/keepalived.conf')).toBe('old keepalived\n');
  });

  test('empty package lists: install fails, apt-get update runs, install succeeds', async () => {
    host.write('/.sandbox/apt-lists-empty', '');
    const r = await apply(request({ packages: ['keepalived', 'nginx'] }));
    expect(r.code).toBe(APPLY_EXIT.ok);
    expect(host.log().filter((l) => l.startsWith('apt-get'))).toEqual([
      'apt-get install -y -q --no-install-recommends keepalived nginx',
      'apt-get update -q',
      'apt-get install -y -q --no-install-recommends keepalived nginx',
    ]);
  });
});

describe('the apply transaction against old or odd programs', () => {
  test('keepalived 2.1 reports an unknown keyword but exits 0: still a validation failure, files restored', async () => {
    const bin = join(host.state, 'bin');
    rmSync(join(bin, 'keepalived')); // a symlink to the shared stand-in: replace it, do not write through it
    writeFileSync(join(bin, 'keepalived'), `#!/bin/sh\necho "(/x: Line 6) Unknown keyword 'bogus'" >&2; exit 0\n`);
    chmodSync(join(bin, 'keepalived'), 0o755);
    const r = await apply(request());
    expect(r.code).toBe(APPLY_EXIT.validationFailed);
    expect(r.stderr).toMatch(/Unknown keyword 'bogus'/);
    expect(host.read('/etc/keepalived/keepalived.conf')).toBe('old keepalived\n');
  });

  test('an init script that exits 0 and starts nothing is a service failure, not a success', async () => {
    const bin = join(host.state, 'bin');
    writeFileSync(join(bin, 'service'), `#!/bin/sh\necho "service $*" >> "$HACTL_SANDBOX/.sandbox/log"; exit 0\n`);
    chmodSync(join(bin, 'service'), 0o755);
    rmSync(join(host.rootPrefix, 'proc/5000001'), { recursive: true, force: true });
    const r = await apply(request({ reload: ['nginx'], start: ['keepalived'] }));
    expect(r.code).toBe(APPLY_EXIT.serviceFailed);
    expect(r.stderr).toMatch(/keepalived did not start: its init returned success but no keepalived process runs/);
  }, 15_000);
});

describe('TLS files', () => {
  const cert = '-----BEGIN CERTIFICATE-----\nnew\n-----END CERTIFICATE-----\n';
  const key = '-----BEGIN PRIVATE KEY-----\nnew key\n-----END PRIVATE KEY-----\n';
  const tlsWrites = (): FileWrite[] => [
    { ...write('/etc/hactl/tls/www.crt', cert), dirMode: '0700' },
    { ...write('/etc/hactl/tls/www.key', key, '0600'), dirMode: '0700' },
  ];
  const dirMode = () => (statSync(join(host.rootPrefix, 'etc/hactl/tls')).mode & 0o777).toString(8);

  test('the key directory is made 0700 (also when it existed wider), the key 0600', async () => {
    host.write('/etc/hactl/tls/.keep', '');
    chmodSync(join(host.rootPrefix, 'etc/hactl/tls'), 0o755);
    const r = await apply(request({ changes: [...request().changes, ...tlsWrites()] }));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(APPLY_EXIT.ok);
    expect(dirMode()).toBe('700');
    expect(mode('/etc/hactl/tls/www.key')).toBe('600');
    expect(mode('/etc/hactl/tls/www.crt')).toBe('644');
    expect(host.read('/etc/hactl/tls/www.key')).toBe(key);
  });

  test('a refused nginx configuration restores the old certificate and key byte for byte', async () => {
    host.write('/etc/hactl/tls/www.crt', 'old cert\n');
    host.write('/etc/hactl/tls/www.key', 'old key\n');
    chmodSync(join(host.rootPrefix, 'etc/hactl/tls/www.key'), 0o600);
    const broken = write('/etc/nginx/conf.d/hactl-web.conf', 'HACTL_INVALID\n');
    const r = await apply(request({ changes: [broken, ...tlsWrites()] }));
    expect(r.code).toBe(APPLY_EXIT.validationFailed);
    expect(host.read('/etc/hactl/tls/www.crt')).toBe('old cert\n');
    expect(host.read('/etc/hactl/tls/www.key')).toBe('old key\n');
    expect(mode('/etc/hactl/tls/www.key')).toBe('600');
    expect(r.stderr).not.toContain('new key');
    expect(services()).toEqual([]);
  });
});
