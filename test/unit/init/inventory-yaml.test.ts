/** Answers → commented YAML that the loader accepts (the same checks as `hactl validate`). */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { InitAnswers } from '../../../src/init/answers.js';
import { checkedInventoryYaml, inventoryYaml } from '../../../src/init/inventory-yaml.js';
import { loadInventoryText } from '../../../src/inventory/load.js';
import { InventoryError } from '../../../src/inventory/problems.js';

const base: InitAnswers = {
  cluster: 'web',
  ssh: { user: 'root', hostKeyPolicy: 'accept-new', identityFile: '~/.ssh/id_ed25519' },
  mode: 'active-passive',
  interface: 'eth0',
  lbs: [
    { name: 'kl1', address: '192.168.10.20' },
    { name: 'kl2', address: '192.168.10.30' },
  ],
  vips: [{ name: 'vip1', address: '192.168.10.249/24', vrid: 51, master: 'kl1', priorities: { kl1: 150, kl2: 100 } }],
  backends: [
    { name: 'web1', address: '192.168.10.10', port: 80 },
    { name: 'web2', address: '192.168.10.11', port: 8080 },
  ],
  serverNames: ['www.example.com'],
  healthPath: '/webserver.html',
  vrrpPassEnv: 'HACTL_VRRP_PASS',
};

const dual: InitAnswers = {
  ...base,
  mode: 'dual-master',
  vips: [
    base.vips[0],
    { name: 'vip2', address: '192.168.10.248/24', vrid: 52, master: 'kl2', priorities: { kl2: 150, kl1: 100 } },
  ],
};

const load = (text: string) =>
  loadInventoryText('inventory.yaml', text, { env: { HACTL_VRRP_PASS: 'pw123456' }, requireSecrets: true });

describe('inventoryYaml', () => {
  test('active-passive validates with no problem at all, and says what each part is', () => {
    const text = inventoryYaml(base);
    const r = load(text);
    expect(r.problems).toEqual([]);
    const c = r.inventory!.clusters[0];
    expect(
      c.vips.map((v) => [v.cidr, v.vrid, v.master, v.nodes.map((n) => `${n.lb}:${n.priority}:${n.state}`)]),
    ).toEqual([['192.168.10.249/24', 51, 'kl1', ['kl1:150:MASTER', 'kl2:100:BACKUP']]]);
    expect(c.sites[0]).toMatchObject({
      name: 'www',
      serverNames: ['www.example.com'],
      healthPath: '/webserver.html',
    });
    expect(c.sites[0].vips.map((v) => v.name)).toEqual(['vip1']);
    expect(c.sites[0].backends.map((b) => b.name)).toEqual(['web1', 'web2']);
    expect(text).toMatch(/^# hactl inventory, written by `hactl init`/);
    expect(text).toMatch(/# Active-passive: one VIP/);
    expect(text).toMatch(/# .*export HACTL_VRRP_PASS=/);
    expect(text).toMatch(/host_key_policy: accept-new # strict \| accept-new/);
    expect(text).toContain('pass_env: HACTL_VRRP_PASS');
    expect(text).not.toMatch(/pass: /);
    expect(text).toContain('- { name: kl1, address: 192.168.10.20 }');
  });

  test('dual-master validates: two VIPs with mirrored masters on one site', () => {
    const text = inventoryYaml(dual);
    const r = load(text);
    expect(r.problems).toEqual([]);
    const c = r.inventory!.clusters[0];
    expect(c.vips.map((v) => [v.name, v.master, v.vrid])).toEqual([
      ['vip1', 'kl1', 51],
      ['vip2', 'kl2', 52],
    ]);
    expect(c.sites[0].vips.map((v) => v.name)).toEqual(['vip1', 'vip2']);
    expect(text).toMatch(/# Dual-master: two VIPs/);
  });

  test('per-host interface and vrrp_address are written only where they differ', () => {
    const text = inventoryYaml({
      ...base,
      lbs: [
        { name: 'kl1', address: 'kl1.example.com', vrrpAddress: '192.168.10.20' },
        { name: 'kl2', address: '192.168.10.30', interface: 'ens4' },
      ],
    });
    expect(load(text).problems).toEqual([]);
    expect(text).toContain('{ name: kl1, address: kl1.example.com, vrrp_address: 192.168.10.20 }');
    expect(text).toContain('{ name: kl2, address: 192.168.10.30, interface: ens4 }');
  });

  test('no VRRP authentication when no variable is named', () => {
    const text = inventoryYaml({ ...base, vrrpPassEnv: undefined });
    expect(load(text).problems).toEqual([]);
    expect(text).not.toMatch(/^\s+auth:/m);
    expect(text).toMatch(/# No VRRP authentication/);
  });
});

describe('checkedInventoryYaml', () => {
  test('refuses answers the loader refuses, with every problem (nothing invalid gets out)', () => {
    const wrong: InitAnswers = { ...base, vips: [{ ...base.vips[0], address: '10.9.9.9/24' }] };
    let err: unknown;
    try {
      checkedInventoryYaml(wrong, 'out.yaml', {});
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InventoryError);
    expect((err as InventoryError).problems.map((p) => p.rule)).toContain('vip-subnet');
  });

  test('an unset password variable is a warning at init time (deploy requires it)', () => {
    const { problems } = checkedInventoryYaml(base, 'out.yaml', {});
    expect(problems.map((p) => [p.severity, p.rule])).toEqual([['warning', 'auth-env']]);
  });
});

test('dual-master: the whole text, against a golden file (UPDATE_GOLDEN=1 rewrites it)', () => {
  const golden = join(dirname(fileURLToPath(import.meta.url)), 'dual-master.golden.yaml');
  const text = inventoryYaml(dual);
  if (process.env.UPDATE_GOLDEN) writeFileSync(golden, text);
  expect(text).toBe(readFileSync(golden, 'utf8'));
});
