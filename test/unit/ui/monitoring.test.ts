/**
 * verify's monitoring formats, from reports built here: the Prometheus exposition must pass a
 * strict parser of the format (test/helpers/prom-text.ts, itself checked below against what the
 * format forbids), and the Nagios output must follow the plugin guidelines.
 */
import type { VerifyReport } from '../../../src/verify/verify.js';
import { nagiosUnknown, nagiosVerify } from '../../../src/ui/nagios.js';
import { prometheusVerify } from '../../../src/ui/prometheus.js';
import { parsePromText } from '../../helpers/prom-text.js';
import { factsOf } from '../../helpers/facts.js';

type Check = VerifyReport['checks'][number];
const check = (kind: string, target: string, ok = true, extra: Partial<Check> = {}): Check => ({
  kind,
  cluster: 'web',
  target,
  ok,
  detail: ok ? 'fine' : 'broken\nsecond line',
  ...extra,
});

function report(over: Partial<VerifyReport> = {}): VerifyReport {
  const node = (n: string, state: string, priority: number, holdsVip: boolean) => ({
    cluster: 'web',
    node: n,
    vip: 'vip1',
    vrid: 51,
    iface: 'eth0',
    address: '10.0.0.100/24',
    keepalived: state !== 'down',
    state,
    priority,
    source: 'keepalived' as const,
    holdsVip,
  });
  return {
    ok: true,
    checks: [
      check('keepalived', 'lb1'),
      check('drift', 'lb1:/etc/keepalived/keepalived.conf'),
      check('site', 'this machine → http://www.example.com/ via 10.0.0.100:80 "quoted" \\ back'),
      check('vip', 'vip1 10.0.0.100/24'),
    ],
    vips: [{ cluster: 'web', name: 'vip1', address: '10.0.0.100/24', master: 'lb1', holders: ['lb1'], health: 'ok' }],
    nodes: [node('lb1', 'MASTER', 150, true), node('lb2', 'BACKUP', 100, false)],
    findings: [],
    census: [],
    facts: new Map([['lb1', factsOf()]]),
    durationMs: 372,
    ...over,
  };
}

describe('prometheus', () => {
  test('a healthy report: families with HELP and TYPE, keepalived-exporter state numbers, escaped labels', () => {
    const text = prometheusVerify(report(), new Date('2026-12-01T10:00:00Z'));
    const f = parsePromText(text);
    expect(f.get('hactl_verify_ok')!.samples[0].value).toBe(1);
    expect(f.get('hactl_verify_timestamp_seconds')!.samples[0].value).toBe(1796119200);
    expect(f.get('hactl_vrrp_state')!.samples.map((s) => [s.labels, s.value])).toEqual([
      [{ cluster: 'web', node: 'lb1', iname: 'vip1', intf: 'eth0', vrid: '51', ip_address: '10.0.0.100/24' }, 2],
      [{ cluster: 'web', node: 'lb2', iname: 'vip1', intf: 'eth0', vrid: '51', ip_address: '10.0.0.100/24' }, 1],
    ]);
    expect(f.get('hactl_vrrp_priority')!.samples.map((s) => s.value)).toEqual([150, 100]);
    expect(
      f
        .get('hactl_vip_health')!
        .samples.filter((s) => s.value === 1)
        .map((s) => s.labels.health),
    ).toEqual(['ok']);
    expect(f.get('hactl_file_drift')!.samples).toEqual([
      {
        name: 'hactl_file_drift',
        labels: { cluster: 'web', node: 'lb1', path: '/etc/keepalived/keepalived.conf' },
        value: 0,
      },
    ]);
    const site = f.get('hactl_check_ok')!.samples.find((s) => s.labels.kind === 'site')!;
    expect(site.labels.target).toBe('this machine → http://www.example.com/ via 10.0.0.100:80 "quoted" \\ back');
    for (const fam of f.values()) expect(fam.type).toBe('gauge');
  });

  test('split brain, a node down, a repeated check and a census collision still give one series each', () => {
    const r = report({
      ok: false,
      checks: [check('backend', 'lb1 → web1', true), check('backend', 'lb1 → web1', false), check('ssh', 'lb2', false)],
      vips: [
        {
          cluster: 'web',
          name: 'vip1',
          address: '10.0.0.100/24',
          master: 'lb1',
          holders: ['lb1', 'lb2'],
          health: 'split-brain',
        },
      ],
      nodes: [{ ...report().nodes[0], state: 'down', keepalived: false, priority: undefined }],
      census: [
        {
          cluster: 'web',
          listened: [],
          collisions: [{ vrid: 51, vip: 'vip1', heardOn: 'lb1', from: '10.0.0.9' }],
          othersInUse: [],
          problems: [],
          notes: [],
        },
      ],
    });
    const f = parsePromText(prometheusVerify(r));
    expect(f.get('hactl_vip_split_brain')!.samples[0].value).toBe(1);
    expect(f.get('hactl_vip_holders')!.samples[0].value).toBe(2);
    expect(f.get('hactl_vrrp_state')!.samples).toEqual([]);
    expect(f.get('hactl_keepalived_up')!.samples[0].value).toBe(0);
    expect(
      f
        .get('hactl_check_ok')!
        .samples.filter((s) => s.labels.kind === 'backend')
        .map((s) => s.value),
    ).toEqual([0]);
    expect(f.get('hactl_vrid_collision')!.samples[0].labels).toEqual({ cluster: 'web', vrid: '51', from: '10.0.0.9' });
  });

  test('a TLS site: seconds to the served certificate expiry, from the tls-expiry check', () => {
    const now = new Date('2026-06-01T00:00:00Z');
    const target = 'this machine → https://www.example.com via 10.0.0.100';
    const r = report({
      checks: [
        ...report().checks,
        {
          kind: 'tls-expiry',
          cluster: 'web',
          target,
          ok: true,
          detail: 'expires on 2026-06-11, in 10 days',
          data: { notAfter: '2026-06-11T00:00:00.000Z', daysLeft: 10, warningDays: 21 },
        },
      ],
    });
    const f = parsePromText(prometheusVerify(r, now));
    expect(f.get('hactl_tls_certificate_expiry_seconds')!.samples).toEqual([
      { name: 'hactl_tls_certificate_expiry_seconds', labels: { cluster: 'web', target }, value: 10 * 86400 },
    ]);
  });
});

describe('the strict parser refuses what the format forbids', () => {
  test.each([
    ['no final newline', 'a 1'],
    ['a bad metric name', '1a 1\n'],
    ['an unquoted label value', 'a{b=c} 1\n'],
    ['an unknown escape', 'a{b="\\t"} 1\n'],
    ['a reserved label name', 'a{__b="c"} 1\n'],
    ['a label twice', 'a{b="1",b="2"} 1\n'],
    ['a series twice', 'a{b="1"} 1\na{b="1"} 2\n'],
    ['a family split', 'a 1\nb 1\na{x="1"} 1\n'],
    ['TYPE after samples', 'a 1\n# TYPE a gauge\n'],
    ['two TYPE lines', '# TYPE a gauge\n# TYPE a gauge\n'],
    ['an unknown type', '# TYPE a meter\n'],
    ['a bad value', 'a one\n'],
    ['two spaces', 'a  1\n'],
  ])('%s', (_what, text) => expect(() => parsePromText(text)).toThrow());

  test('and accepts what it allows', () => {
    const f = parsePromText('# HELP a x\\ny\n# TYPE a gauge\na{b="q\\"\\\\\\n",} -Inf 123\na NaN\n\n# comment\n');
    expect(f.get('a')!.help).toBe('x\ny');
    expect(f.get('a')!.samples.map((s) => s.labels)).toEqual([{ b: 'q"\\\n' }, {}]);
  });
});

/** The plugin guidelines: "SERVICE STATE - text | 'label'=value[UOM];[warn];[crit];[min];[max] …". */
function parseNagios(text: string) {
  const [first, ...long] = text.trimEnd().split('\n');
  const m = /^HACTL (OK|WARNING|CRITICAL|UNKNOWN) - ([^|]+?)(?: \| (.*))?$/.exec(first);
  if (!m) throw new Error(`not a plugin status line: ${first}`);
  const perf = (m[3] ?? '').split(' ').filter(Boolean);
  for (const p of perf)
    if (!/^(?:'[^'=]+'|[^'= ]+)=-?\d+(?:\.\d+)?(?:s|ms|us|%|B|KB|MB|GB|TB|c)?(?:;[-\d.:~@]*){0,4}$/.test(p))
      throw new Error(`not perfdata: ${p}`);
  return { state: m[1], text: m[2], perf, long };
}

describe('nagios', () => {
  test('healthy: OK, exit 0, perfdata per the guidelines', () => {
    const n = nagiosVerify(report());
    const p = parseNagios(n.text);
    expect([n.exitCode, p.state]).toEqual([0, 'OK']);
    expect(p.perf).toEqual([
      'checks=4;;;0',
      'failed=0;;0;0',
      'warnings=0;0;;0',
      'vips=1;;;0',
      'vips_ok=1;;;0;1',
      'vips_down=0;;0;0',
      'split_brain=0;;0;0',
      'time=0.372s;;;0',
    ]);
    expect(p.long).toEqual([]);
  });

  test('a warning only: WARNING, exit 1; failures: CRITICAL, exit 2, the first in the line, the rest below', () => {
    const warn = nagiosVerify(report({ checks: [check('versions', 'keepalived', true, { warning: true })] }));
    expect([warn.exitCode, parseNagios(warn.text).state]).toEqual([1, 'WARNING']);
    const crit = nagiosVerify(
      report({
        ok: false,
        checks: [check('vip', 'vip1 | x', false), check('site', 'y', false), check('nginx', 'lb1')],
      }),
    );
    const p = parseNagios(crit.text);
    expect([crit.exitCode, p.state]).toEqual([2, 'CRITICAL']);
    expect(p.text).toBe('2 of 3 checks failed: vip vip1 / x: broken');
    expect(p.long).toEqual(['site y: broken']);
  });

  test('no load balancer answered: UNKNOWN, exit 3; so is an inventory error', () => {
    const n = nagiosVerify(report({ ok: false, facts: new Map(), checks: [check('ssh', 'lb1', false)] }));
    expect([n.exitCode, parseNagios(n.text).state]).toEqual([3, 'UNKNOWN']);
    const u = nagiosUnknown('inventory.yaml:3:5: bad\n  more');
    expect([u.exitCode, parseNagios(u.text).text]).toEqual([3, 'inventory.yaml:3:5: bad more']);
  });
});
