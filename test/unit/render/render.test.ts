/**
 * Golden renderings, each checked by the real validators (keepalived -t, nginx -t).
 * UPDATE_GOLDEN=1 rewrites the golden files; review the diff before committing.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { renderInventory, type HostRender } from '../../../src/render/render.js';
import { fixturePath, loadText, loadValid, ROOT } from '../../helpers/inventory.js';
import { keepalivedCheck, nginxCheck } from '../../helpers/validators.js';

const GOLDEN = join(ROOT, 'test', 'fixtures', 'golden');
const SCENARIOS = ['active-passive', 'three-lbs', 'dual-master', 'unicast', 'tls'];

function renders(name: string): HostRender[] {
  return renderInventory(loadValid(fixturePath(`${name}.yaml`)));
}

describe.each(SCENARIOS)('%s', (scenario) => {
  const hosts = renders(scenario);

  it('matches the golden files', () => {
    for (const r of hosts)
      for (const f of r.files) {
        const golden = join(GOLDEN, scenario, r.lb.name, f.path);
        if (!existsSync(golden) && process.env.CI)
          throw new Error(`golden file missing: ${golden} (run UPDATE_GOLDEN=1 locally)`);
        if (process.env.UPDATE_GOLDEN || !existsSync(golden)) {
          mkdirSync(dirname(golden), { recursive: true });
          writeFileSync(golden, f.content);
        }
        expect(f.content).toBe(readFileSync(golden, 'utf8'));
      }
  });

  it.each(hosts.map((h) => [h.lb.name, h] as const))('keepalived -t accepts %s', (_n, r) => {
    const res = keepalivedCheck(r);
    if (!res.ok) throw new Error(res.output);
  });

  it.each(hosts.map((h) => [h.lb.name, h] as const))('nginx -t accepts %s', (_n, r) => {
    const res = nginxCheck(r);
    if (!res.ok) throw new Error(res.output);
  });
});

describe('the validators can fail', () => {
  const [r] = renders('active-passive');
  it('keepalived -t rejects a broken config', () => {
    const broken = {
      ...r,
      files: r.files.map((f) =>
        f.path.endsWith('keepalived.conf')
          ? { ...f, content: f.content.replace('virtual_router_id 51', 'virtual_router_id 300') }
          : f,
      ),
    };
    expect(keepalivedCheck(broken).ok).toBe(false);
  });
  it('nginx -t rejects an unknown directive', () => {
    const broken = {
      ...r,
      files: r.files.map((f) =>
        f.path.endsWith('.conf') && f.service === 'nginx'
          ? { ...f, content: f.content.replace('server_name', 'bogus_directive on;\n    server_name') }
          : f,
      ),
    };
    expect(nginxCheck(broken).ok).toBe(false);
  });
});

describe('rendering details', () => {
  it('keepalived.conf is 0600 (it holds the password); scripts 0755', () => {
    const [r] = renders('active-passive');
    const mode = (p: string) => r.files.find((f) => f.path === p)?.mode;
    expect(mode('/etc/keepalived/keepalived.conf')).toBe('0600');
    expect(mode('/etc/keepalived/hactl-check-nginx.sh')).toBe('0755');
    expect(mode('/etc/sysctl.d/90-hactl.conf')).toBe('0644');
    // The password and the probe token derived from it (render/probe-token.ts): both masked in output.
    expect(r.secrets.map((x) => x.reveal())).toEqual(['s3cret', expect.stringMatching(/^[0-9a-f]{32}$/)]);
  });
  it('persists ip_nonlocal_bind under /etc/sysctl.d', () => {
    const [r] = renders('active-passive');
    expect(r.files.find((f) => f.path === '/etc/sysctl.d/90-hactl.conf')?.content).toMatch(
      /^net.ipv4.ip_nonlocal_bind = 1$/m,
    );
  });
  it('every file says it is managed by hactl', () => {
    for (const r of renders('dual-master')) for (const f of r.files) expect(f.content).toMatch(/Managed by hactl/);
  });
  it('unicast lists every other LB as a peer', () => {
    const [n1] = renders('unicast');
    const conf = n1.files[0].content;
    expect(conf).toMatch(/unicast_src_ip 10\.8\.0\.11\n\s+unicast_peer \{\n\s+10\.8\.0\.12\n\s+\}/);
    expect(conf).toMatch(/version 3/);
    expect(conf).toMatch(/nopreempt/);
    expect(conf).not.toMatch(/authentication/);
  });
  it('a missing template value is an error, not an empty string', async () => {
    const { renderTemplate } = await import('../../../src/render/engine.js');
    expect(() => renderTemplate('sysctl.conf.hbs', {})).toThrow(/context.lines/);
    expect(() => renderTemplate('check-nginx.sh.hbs', { status_port: 8099, loop: null })).toThrow(/timeout/);
  });
});

describe('state-change hooks', () => {
  const text = readFileSync(fixturePath('active-passive.yaml'), 'utf8').replace(
    'vrrp: { auth: { type: PASS, pass: s3cret } }',
    "vrrp: { auth: { type: PASS, pass: s3cret } }\n    notify: { command: /usr/local/bin/page-oncall, webhook: 'https://chat.example.com/hooks/T0K3N?room=ops', timeout: 3 }",
  );
  const [r] = renderInventory(loadText(text, 'hooks.yaml').inventory!);
  const notify = r.files.find((f) => f.path === '/etc/keepalived/hactl-notify.sh')!;

  it('writes the hooks into the notify script as quoted words; the script is root-only with a webhook in it', () => {
    expect(notify.content).toContain(
      "vip1) addr=10.0.0.100/24 hook_cmd=/usr/local/bin/page-oncall hook_url='https://chat.example.com/hooks/T0K3N?room=ops' hook_t=3 ;;",
    );
    expect(notify.mode).toBe('0700');
    expect(r.secrets.map((s) => s.reveal())).toContain('https://chat.example.com/hooks/T0K3N?room=ops');
  });

  it('leaves the script as before for clusters without hooks', () => {
    const [plain] = renders('active-passive');
    const f = plain.files.find((x) => x.path === '/etc/keepalived/hactl-notify.sh')!;
    expect(f.mode).toBe('0755');
    expect(f.content).not.toContain('hook');
  });
});
