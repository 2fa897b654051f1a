/** The seed how-to's deployment (examples/seed-dual-master.yaml) renders exactly its values. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { renderInventory } from '../../../src/render/render.js';
import { loadInventoryText } from '../../../src/inventory/load.js';
import { loadValid, ROOT } from '../../helpers/inventory.js';
import { keepalivedCheck, nginxCheck } from '../../helpers/validators.js';

const SEED = join(ROOT, 'examples', 'seed-dual-master.yaml');
const renders = renderInventory(loadValid(SEED));
const host = (name: string) => renders.find((r) => r.lb.name === name)!;
const file = (name: string, suffix: string) => host(name).files.find((f) => f.path.endsWith(suffix))!.content;

/** The body of one vrrp_instance block, whitespace-normalised. */
function instance(conf: string, name: string): string {
  const m = conf.match(new RegExp(`vrrp_instance ${name} \\{([\\s\\S]*?)\\n\\}`));
  if (!m) throw new Error(`no vrrp_instance ${name}`);
  return m[1].replace(/\s+/g, ' ').trim();
}

describe('seed: kl1/kl2 dual-master', () => {
  it.each([
    ['kl1', 'klg1', 'MASTER', 31, 150, '192.168.10.60/24'],
    ['kl1', 'klg2', 'BACKUP', 32, 100, '192.168.10.80/24'],
    ['kl2', 'klg1', 'BACKUP', 31, 100, '192.168.10.60/24'],
    ['kl2', 'klg2', 'MASTER', 32, 150, '192.168.10.80/24'],
  ])('%s %s: state %s, VRID %d, priority %d, %s', (lb, inst, state, vrid, prio, vip) => {
    const body = instance(file(lb, 'keepalived.conf'), inst);
    expect(body).toContain(`state ${state} interface eth0 virtual_router_id ${vrid} priority ${prio} advert_int 1`);
    expect(body).toContain('authentication { auth_type PASS auth_pass 1111 }');
    expect(body).toContain(`virtual_ipaddress { ${vip} dev eth0 label eth0:1 }`);
    expect(body).toContain('track_script { hactl_check_nginx hactl_nginx_alive }');
  });
  it('router_id is the host name', () => {
    expect(file('kl1', 'keepalived.conf')).toMatch(/router_id kl1\n/);
    expect(file('kl2', 'keepalived.conf')).toMatch(/router_id kl2\n/);
  });
  it('nginx listens on both VIPs for www and bbs and proxies to xinxin with Host and X-Forwarded-For', () => {
    const conf = file('kl1', 'hactl-kl.conf');
    expect(conf).toMatch(
      /upstream xinxin \{\n\s+server 192\.168\.10\.10:80;\n\s+server 192\.168\.10\.11:80;\n\s+server 192\.168\.10\.12:80;\n\}/,
    );
    for (const name of ['www.rxinxin.org', 'bbs.rxinxin.org']) {
      const block = conf.split('server {').find((b) => b.includes(`server_name ${name};`))!;
      expect(block).toContain('listen 192.168.10.60:80;');
      expect(block).toContain('listen 192.168.10.80:80;');
      expect(block).toContain('proxy_pass http://xinxin;');
      expect(block).toContain('proxy_set_header Host $host;');
      expect(block).toContain('proxy_set_header X-Forwarded-For $remote_addr;');
    }
    expect(conf.match(/upstream xinxin/g)).toHaveLength(1);
  });
  it('ip_nonlocal_bind is persisted (seed section 6)', () => {
    expect(file('kl2', '90-hactl.conf')).toContain('net.ipv4.ip_nonlocal_bind = 1');
  });
  it('the health check really fails over: weight 0 puts a node without nginx in FAULT', () => {
    expect(file('kl1', 'keepalived.conf')).toMatch(/vrrp_script hactl_check_nginx \{[^}]*weight 0/);
  });
  it("the seed's own weight 2 is refused with the arithmetic", () => {
    const doc = parseDocument(readFileSync(SEED, 'utf8'));
    doc.setIn(['clusters', 0, 'health_check', 'weight'], 2);
    const r = loadInventoryText(SEED, doc.toString(), { env: {} });
    expect(r.inventory).toBeUndefined();
    expect(
      r.problems
        .filter((p) => p.rule === 'failover-arithmetic')
        .map((p) => p.message)
        .join('\n'),
    ).toMatch(/150 ≥ 102/);
  });
  it.each(['kl1', 'kl2'])('%s passes keepalived -t and nginx -t', (lb) => {
    const k = keepalivedCheck(host(lb));
    if (!k.ok) throw new Error(k.output);
    const n = nginxCheck(host(lb));
    if (!n.ok) throw new Error(n.output);
  });
});
