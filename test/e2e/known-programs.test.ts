/**
 * keepalived --version and nginx -v are asked once per binary (remote/known-programs.ts), and a
 * binary that changed is asked again. lb1's nginx is wrapped after the first deploy by a script
 * that counts `-v` and runs the real nginx for everything else, so the daemon is never touched
 * (the lab, and the wrapper with it, goes when the file ends).
 */
import { readFileSync, rmSync } from 'node:fs';
import { deployCli, hactl, jsonOf, programsCacheOf } from './helpers/deploy.js';
import { inHost } from './helpers/host.js';
import { useLab } from './helpers/index.js';

const lab = useLab();
const REAL = '/opt/hactl-test/nginx';
const LOG = '/run/hactl-test-nginx-v';

/** Installs /usr/sbin/nginx as a counting wrapper; `says` replaces the version line it prints. */
const wrap = (says?: string) =>
  inHost(
    lab.state,
    'lb1',
    [
      'set -e',
      `[ -e ${REAL} ] || { mkdir -p /opt/hactl-test; mv /usr/sbin/nginx ${REAL}; }`,
      `printf '%s\\n' '#!/bin/sh' 'if [ "$1" = -v ]; then echo asked >> ${LOG}; ${
        says ? `echo "${says}" >&2; exit 0` : ':'
      }; fi' 'exec ${REAL} "$@"' > /usr/sbin/nginx.new`,
      'chmod 755 /usr/sbin/nginx.new',
      // a rename over the old file, as dpkg installs: a new inode
      'mv -f /usr/sbin/nginx.new /usr/sbin/nginx',
      `rm -f ${LOG}`,
    ].join('\n'),
  );
const asked = async () =>
  Number((await inHost(lab.state, 'lb1', `if [ -f ${LOG} ]; then wc -l < ${LOG}; else echo 0; fi`)).stdout.trim());

beforeAll(async () => {
  const d = await deployCli(lab.state.files.inventory, '--yes');
  if (d.exitCode !== 0) throw new Error(`deploy failed (exit ${d.exitCode}):\n${d.stdout}\n${d.stderr}`);
  await wrap();
  rmSync(programsCacheOf(), { force: true });
}, 180_000);

type Check = { kind: string; target: string; detail: string; warning?: boolean };
const nginxVersions = async () => {
  const v = await hactl(['verify', '-i', lab.state.files.inventory, '--json']);
  expect(v.exitCode).toBe(0);
  return (JSON.parse(v.stdout) as { checks: Check[] }).checks.find(
    (c) => c.kind === 'versions' && c.target === 'nginx',
  );
};

test('verify, status and a no-op deploy ask nginx its version once, and all three know it', async () => {
  const real = (await inHost(lab.state, 'lb1', `${REAL} -v 2>&1`)).stdout.match(/nginx\/(\S+)/)?.[1];
  expect(real).toMatch(/^\d+\.\d+\.\d+$/);
  expect(await nginxVersions()).toMatchObject({ detail: `lb1 ${real}, lb2 ${real}` });
  expect(await asked()).toBe(1);

  const cache = JSON.parse(readFileSync(programsCacheOf(), 'utf8')) as { hosts: Record<string, { nginx?: unknown }> };
  const lb1 = lab.state.hosts.find((h) => h.name === 'lb1')!;
  expect(cache.hosts[`root@${lb1.ip}:22`]?.nginx).toEqual({
    id: expect.stringMatching(/^\d+:\d+:\d+:\d+$/),
    version: real,
  });

  expect(await nginxVersions()).toMatchObject({ detail: `lb1 ${real}, lb2 ${real}` });
  const s = await hactl(['status', '-i', lab.state.files.inventory, '--json']);
  expect(s.exitCode).toBe(0);
  const j = jsonOf(await deployCli(lab.state.files.inventory, '--yes', '--json'));
  expect(j.ok).toBe(true);
  expect(j.hosts.map((h) => h.status)).toEqual(['unchanged', 'unchanged']);
  expect(await asked()).toBe(1);
}, 180_000);

test('a replaced nginx is asked again, and its new version is the one reported', async () => {
  await wrap('nginx version: nginx/1.99.0');
  const check = await nginxVersions();
  expect(check?.detail).toMatch(/^lb1 1\.99\.0, lb2 \S+: versions differ/);
  expect(check?.warning).toBe(true);
  expect(await asked()).toBe(1);
  // and remembered: the next read does not ask
  expect((await nginxVersions())?.detail).toMatch(/^lb1 1\.99\.0/);
  expect(await asked()).toBe(1);
}, 180_000);
