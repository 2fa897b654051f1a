/** verify's pure parts: the LB probe script (run here with a stand-in curl), diagnosis from facts. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { HostFacts } from '../../../src/remote/facts.js';
import { joinSections, parseSections } from '../../../src/remote/section.js';
import { render } from '../../../src/remote/script.js';
import { httpProbesSection, parseProbes } from '../../../src/remote/sections/http-probes.js';
import { renderInventory, PATHS } from '../../../src/render/render.js';
import { configFindings, firewallFindings, observeAdverts } from '../../../src/verify/diagnose.js';
import { FakeTransport } from '../../helpers/fake-transport.js';
import { vipChecks } from '../../../src/verify/verify.js';
import { factsOf } from '../../helpers/facts.js';
import { fixturePath, loadValid } from '../../helpers/inventory.js';

const PROBES = [
  { id: 'b-www-web1', ip: '10.0.1.21', port: 8080, host: 'www.example.com', path: '/healthz' },
  { id: 's-www-vip1', ip: '10.0.0.100', port: 80, host: "it's.example.com", path: '/healthz' },
];

describe('probeScript', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'hactl-unit-probe-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** A stand-in curl: logs its argv, and answers like a curl with or without --parallel. */
  function run(parallel: boolean, header = '10.0.1.21:8080'): { out: ReturnType<typeof parseProbes>; calls: string } {
    writeFileSync(
      join(dir, 'curl'),
      `#!/bin/sh
printf '%s ' "$@" | tr '\\n' ' ' >> ${dir}/calls; echo >> ${dir}/calls
case "$1" in --parallel) ${parallel ? '' : 'exit 2;;'} esac
for a in "$@"; do case "$a" in *%{http_code}*) printf '%s\\n' "$a" | sed 's/%{http_code}/200/; s/%{time_total}/0.012/; s/%header{x-hactl-upstream}/${header}/; s/\\\\n$//';; esac; done
`,
      { mode: 0o755 },
    );
    rmSync(join(dir, 'calls'), { force: true });
    const section = httpProbesSection(PROBES);
    const out = execFileSync('/bin/sh', ['-c', render(joinSections([section]))], {
      env: { PATH: `${dir}:/usr/bin:/bin` },
      encoding: 'utf8',
    });
    const [probes] = parseSections([section] as const, out);
    return { out: probes, calls: execFileSync('cat', [join(dir, 'calls')], { encoding: 'utf8' }) };
  }

  it('makes every request with one parallel curl, each with its own Host header, and reports one line each', () => {
    const { out, calls } = run(true);
    expect(calls.trim().split('\n')).toHaveLength(1);
    expect(calls).toContain('--next');
    expect(calls).toContain("Host: it's.example.com");
    expect(out).toEqual([
      { id: 'b-www-web1', status: 200, ms: 12, upstream: '10.0.1.21:8080' },
      { id: 's-www-vip1', status: 200, ms: 12, upstream: '10.0.1.21:8080' },
    ]);
  });

  it('falls back to sequential requests when curl has no --parallel; a verbatim %header is dropped', () => {
    const { out, calls } = run(false, '%header{x-hactl-upstream}');
    expect(calls.trim().split('\n')).toHaveLength(2);
    expect(out.map((p) => [p.id, p.status, p.upstream])).toEqual([
      ['b-www-web1', 200, undefined],
      ['s-www-vip1', 200, undefined],
    ]);
  });

  it('parses no answer as status 0', () => {
    expect(parseProbes(['b1 000 2.001 ', ''])).toEqual([{ id: 'b1', status: 0, ms: 2001 }]);
  });
});

describe('diagnosis from facts', () => {
  const inv = loadValid(fixturePath('active-passive.yaml'));
  const cluster = inv.clusters[0];
  const vip = cluster.vips[0];
  const conf = Object.fromEntries(
    renderInventory(inv).map((r) => [r.lb.name, r.files.find((f) => f.path === PATHS.keepalivedConf)!.content]),
  );

  function facts(o: { conf?: string; addrs?: string[] }): HostFacts {
    const f = factsOf(
      { addrs: o.addrs ?? [] },
      { addresses: (o.addrs ?? []).map((cidr) => ({ iface: 'eth0', family: 4, cidr })) },
    );
    if (o.conf !== undefined) f.files[PATHS.keepalivedConf] = { exists: true, content: o.conf };
    return f;
  }

  it('names the node whose virtual_router_id differs from the master, and only it', () => {
    const f = new Map([
      ['lb1', facts({ conf: conf.lb1 })],
      ['lb2', facts({ conf: conf.lb2.replace(/virtual_router_id \d+/, 'virtual_router_id 52') })],
    ]);
    expect(configFindings(cluster, vip, f)).toEqual([
      expect.objectContaining({
        node: 'lb2',
        cause: 'config-mismatch',
        evidence: `virtual_router_id is 52 here but ${vip.vrid} on lb1`,
      }),
    ]);
    const same = new Map([
      ['lb1', facts({ conf: conf.lb1 })],
      ['lb2', facts({ conf: conf.lb2 })],
    ]);
    expect(configFindings(cluster, vip, same)).toEqual([]);
  });

  it('does not print the auth_pass it compares', () => {
    const f = new Map([
      ['lb1', facts({ conf: conf.lb1 })],
      ['lb2', facts({ conf: conf.lb2.replace(/auth_pass \S+/, 'auth_pass hunter22') })],
    ]);
    const found = configFindings(cluster, vip, f);
    expect(found.map((x) => x.evidence)).toEqual(["auth_pass differs from lb1's"]);
    expect(JSON.stringify(found)).not.toMatch(/hunter22|s3cret/);
  });

  it('reports a VRRP drop rule once per node, as iptables shows it, with the command that removes it', () => {
    const f = new Map([
      ['lb1', ['-A INPUT -p vrrp -j ACCEPT']],
      [
        'lb2',
        [
          '-A INPUT -s 10.0.0.11/32 -p vrrp -j DROP',
          '		meta l4proto vrrp ip saddr 10.0.0.11 counter packets 3 bytes 120 drop',
        ],
      ],
    ]);
    const found = firewallFindings(vip, f);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({
      node: 'lb2',
      cause: 'firewall',
      fix: expect.stringContaining('iptables -D INPUT -s 10.0.0.11/32 -p vrrp -j DROP'),
    });
    // nft-only hosts still get their rule reported.
    expect(firewallFindings(vip, new Map([['lb1', ['ip protocol vrrp drop']]]))).toHaveLength(1);
  });

  it('VIP checks: one holder ok, two split brain, none down, away from its master failed over', () => {
    const holders = (a: string[], b: string[]) =>
      vipChecks(
        cluster,
        new Map([
          ['lb1', facts({ addrs: a })],
          ['lb2', facts({ addrs: b })],
        ]),
      );
    expect(holders([vip.cidr], []).checks[0]).toMatchObject({ ok: true, detail: 'held by lb1 (its master)' });
    expect(holders([vip.cidr], [vip.cidr]).checks[0]).toMatchObject({
      ok: false,
      detail: 'SPLIT BRAIN: held by lb1 and lb2',
    });
    expect(holders([], []).checks[0]).toMatchObject({ ok: false, detail: 'VIP down: no load balancer holds it' });
    expect(holders([], [vip.cidr]).checks[0]).toMatchObject({
      ok: false,
      detail: expect.stringMatching(/^held by lb2, not its master lb1/),
    });
  });
});

describe('observeAdverts', () => {
  const inv = loadValid(fixturePath('dual-master.yaml'));
  const [v1, v2] = inv.clusters[0].vips;
  const [a, b] = inv.clusters[0].lbs.map((l) => l.name);
  const dump = (rows: [string, number, number][]) =>
    rows
      .map(
        ([name, rcvd, sent]) =>
          `VRRP Instance: ${name}\n  Advertisements:\n    Received: ${rcvd}\n    Sent: ${sent}\n  Authentication Errors:\n    Type Mismatch: 0\n    Failure: 0\n`,
      )
      .join('');

  it('one bounded observation covers every split VIP: the node that stopped receiving is named per VIP', async () => {
    // a hears nothing on either instance while b keeps sending; b hears a on both.
    const ta = new FakeTransport(a)
      .onSection(
        'keepalived-stats',
        dump([
          [v1.name, 10, 5],
          [v2.name, 10, 5],
        ]).split('\n'),
        1,
      )
      .onSection(
        'keepalived-stats',
        dump([
          [v1.name, 10, 7],
          [v2.name, 10, 7],
        ]).split('\n'),
      );
    const tb = new FakeTransport(b)
      .onSection(
        'keepalived-stats',
        dump([
          [v1.name, 20, 5],
          [v2.name, 20, 5],
        ]).split('\n'),
        1,
      )
      .onSection(
        'keepalived-stats',
        dump([
          [v1.name, 22, 7],
          [v2.name, 22, 7],
        ]).split('\n'),
      );
    const found = await observeAdverts([v1, v2], [a, b], (n) => (n === a ? ta : tb));
    expect(found.map((f) => [f.vip, f.node, f.cause])).toEqual([
      [v1.name, a, 'adverts-not-arriving'],
      [v2.name, a, 'adverts-not-arriving'],
    ]);
    expect(ta.calls).toHaveLength(2); // before and after, not per VIP
  }, 15_000);
});
