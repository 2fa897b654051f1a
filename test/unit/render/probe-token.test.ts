/**
 * The probe token: derived from the VRRP password (else the operator's probe key), rendered
 * into nginx's map only, found again in the deployed file (by hactl and by the hosts' own sed),
 * masked like a secret; without a token nothing identifies who answered.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { attachProbeKey, probeKeyFile } from '../../../src/cli/probe-key.js';
import { maskSecrets, Secret } from '../../../src/inventory/secret.js';
import { clusterProbeToken, deployedProbeToken, probeHeaders } from '../../../src/render/probe-token.js';
import { renderHost } from '../../../src/render/render.js';
import { joinSections } from '../../../src/remote/section.js';
import { httpProbesSection } from '../../../src/remote/sections/http-probes.js';
import { render } from '../../../src/remote/script.js';
import { fixturePath, loadValid } from '../../helpers/inventory.js';

const withPass = loadValid(fixturePath('active-passive.yaml'));
const noPass = loadValid(fixturePath('three-lbs.yaml'));
const nginxOf = (r: ReturnType<typeof renderHost>) => r.files.find((f) => f.service === 'nginx')!.content;

test('derived from the VRRP password: the same on every node and every run, different per cluster', () => {
  const c = withPass.clusters[0];
  const a = clusterProbeToken(c)!.reveal();
  expect(a).toMatch(/^[0-9a-f]{32}$/);
  expect(clusterProbeToken(c)!.reveal()).toBe(a);
  expect(clusterProbeToken({ ...c, name: 'other' })!.reveal()).not.toBe(a);
  const [lb1, lb2] = c.lbs;
  expect(deployedProbeToken(nginxOf(renderHost(c, lb1)))!.reveal()).toBe(a);
  expect(deployedProbeToken(nginxOf(renderHost(c, lb2)))!.reveal()).toBe(a);
});

test('without a password: the operator probe key; without either: no token and no hactl header at all', () => {
  const c = noPass.clusters[0];
  expect(clusterProbeToken(c)).toBeUndefined();
  const bare = nginxOf(renderHost(c, c.lbs[0]));
  expect(bare).not.toMatch(/X-Hactl-LB|X-Hactl-Upstream|map \$http_x_hactl_probe/);
  expect(bare).toContain('proxy_set_header X-Hactl-Probe "";');
  const keyed = { ...c, probeKey: new Secret('k'.repeat(64)) };
  const t = clusterProbeToken(keyed)!;
  const text = nginxOf(renderHost(keyed, c.lbs[0]));
  expect(text).toContain(`"${t.reveal()}" "lb-a"; # hactl probe token`);
  expect(text).toContain('add_header X-Hactl-LB $hactl_lb_edge always;');
});

test('a plain request maps to "": only the token names the node; the token is masked and never reaches a backend', () => {
  const c = withPass.clusters[0];
  const r = renderHost(c, c.lbs[0]);
  const text = nginxOf(r);
  const t = clusterProbeToken(c)!.reveal();
  expect(text).toMatch(
    /map \$http_x_hactl_probe \$hactl_lb_web \{\n {4}default "";\n {4}"[0-9a-f]{32}" "lb1"; # hactl probe token\n\}/,
  );
  expect(maskSecrets(text, r.secrets)).not.toContain(t);
  expect(probeHeaders(clusterProbeToken(c))).toEqual({ 'X-Hactl-Probe': t });
  expect(probeHeaders(undefined)).toEqual({});
});

test('a token given to render wins (verify renders with the one the host has)', () => {
  const c = withPass.clusters[0];
  const mine = new Secret('0123456789abcdef0123456789abcdef');
  expect(deployedProbeToken(nginxOf(renderHost(c, c.lbs[0], {}, { probeToken: mine })))!.reveal()).toBe(mine.reveal());
});

test('the probe key file: made 0600 only by commands that render, read by the others', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hactl-key-'));
  try {
    const env = { HACTL_CONFIG_DIR: dir };
    const inv = { ...noPass, clusters: noPass.clusters.map((c) => ({ ...c })) };
    attachProbeKey(inv, env, { create: false });
    expect(inv.clusters[0].probeKey).toBeUndefined();
    attachProbeKey(inv, env, { create: true });
    const file = probeKeyFile(env)!;
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(inv.clusters[0].probeKey!.reveal()).toBe(readFileSync(file, 'utf8').trim());
    const again = { ...noPass, clusters: noPass.clusters.map((c) => ({ ...c })) };
    attachProbeKey(again, env, { create: false });
    expect(again.clusters[0].probeKey!.reveal()).toBe(inv.clusters[0].probeKey!.reveal());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("the load balancer's own probes read the token from the deployed file and send it from a file, not argv", () => {
  const root = mkdtempSync(join(tmpdir(), 'hactl-tok-'));
  try {
    const c = withPass.clusters[0];
    const conf = '/etc/nginx/conf.d/hactl-web.conf';
    execFileSync('mkdir', ['-p', join(root, 'etc/nginx/conf.d'), join(root, 'bin')]);
    writeFileSync(join(root, conf), nginxOf(renderHost(c, c.lbs[0])));
    // A curl that answers each -w group with the header file it was given.
    writeFileSync(
      join(root, 'bin/curl'),
      '#!/bin/sh\nfor a; do case "$a" in @*) h=$(cat "${a#@}");; esac; done\necho "p1 200 0.001 lb1 10.0.0.1:80 [$h] [$*]"\n',
      { mode: 0o755 },
    );
    const section = httpProbesSection([{ id: 'p1', ip: '10.0.0.100', port: 80, host: 'www', path: '/' }], {
      tokenFile: conf,
    });
    const out = execFileSync('sh', ['-c', render(joinSections([section]), root)], {
      encoding: 'utf8',
      env: { PATH: `${join(root, 'bin')}:/usr/bin:/bin` },
    });
    const t = clusterProbeToken(c)!.reveal();
    expect(out).toContain(`[X-Hactl-Probe: ${t}]`);
    const argv = out.split('[').at(-1)!;
    expect(argv).not.toContain(t);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
