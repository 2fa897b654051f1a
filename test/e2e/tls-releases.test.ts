/**
 * HTTPS rendered per nginx version, on real nginx: a `lab up --tls --os mixed` cluster whose
 * master runs Debian 11 (nginx 1.18: `listen … ssl http2`) and whose backup runs Debian 13
 * (nginx 1.26: `http2 on;`). Both validate and both serve HTTP/2 with the lab CA's certificate
 * through the VIP, before and after the VIP moves.
 */
import { execa } from 'execa';
import { inHost, startService, stopService, useLab, waitForVip } from './helpers/index.js';
import { deployCli, hactl, removeScratch } from './helpers/deploy.js';

const lab = useLab({ tls: true, os: 'mixed' });
afterAll(removeScratch);

const SITE = 'www.lab.test';
const vip = () => lab.state.clusters[0].vips[0].ip;

/** The probe token deploy rendered (only requests carrying it are told which LB answered). */
async function probeToken(): Promise<string> {
  const out = await inHost(lab.state, 'lb1', 'grep -o \'"[0-9a-f]\\{32\\}"\' /etc/nginx/conf.d/*.conf | head -n 1');
  return out.stdout.trim().replace(/"/g, '');
}

/** "curl-exit answering-lb http-version" of one HTTPS request through the VIP, trusting the lab CA. */
async function served(): Promise<string> {
  const token = await probeToken();
  const r = await execa(
    'curl',
    [
      '-sS',
      '-m',
      '5',
      '--cacert',
      lab.state.files.tls!.ca,
      '--resolve',
      `${SITE}:443:${vip()}`,
      '-o',
      '/dev/null',
      '-D',
      '-',
      '-w',
      'version=%{http_version}',
      '-H',
      `X-Hactl-Probe: ${token}`,
      `https://${SITE}/webserver.html`,
    ],
    { reject: false },
  );
  const lb = /x-hactl-lb: (\S+)/i.exec(r.stdout)?.[1];
  return `${r.exitCode} ${lb} ${/version=(\S+)/.exec(r.stdout)?.[1]}`;
}

test('nginx 1.18 and 1.26 each get the HTTP/2 spelling they understand, validate, and serve HTTP/2', async () => {
  const d = await deployCli(lab.state.files.inventory, '--yes');
  expect({ exit: d.exitCode, out: d.stdout.slice(-2000) }).toMatchObject({ exit: 0 });
  const conf = (lb: string) =>
    inHost(lab.state, lb, 'grep -E "listen .*:443|http2 on" /etc/nginx/conf.d/hactl-lab1.conf');
  expect((await conf('lb1')).stdout.trim()).toBe(`listen ${vip()}:443 ssl http2;`);
  expect(
    (await conf('lb2')).stdout
      .trim()
      .split('\n')
      .map((l) => l.trim()),
  ).toEqual([`listen ${vip()}:443 ssl;`, 'http2 on;']);
  expect(await served()).toBe('0 lb1 2');
  // The backup takes the VIP when nginx stops on the master (its health check fails): its nginx 1.26 serves too.
  await stopService(lab.state, 'lb1', 'nginx');
  try {
    await waitForVip(lab.state, vip(), ['lb2']);
    expect(await served()).toBe('0 lb2 2');
  } finally {
    await startService(lab.state, 'lb1', 'nginx');
  }
  await waitForVip(lab.state, vip(), ['lb1'], 30_000);
  const v = await hactl(['verify', '-i', lab.state.files.inventory]);
  expect({ exit: v.exitCode, fails: v.stdout.split('\n').filter((l) => /FAIL/.test(l)) }).toEqual({
    exit: 0,
    fails: [],
  });
}, 180_000);
