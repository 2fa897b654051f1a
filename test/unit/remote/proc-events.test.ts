/**
 * Whether keepalived's track_process can hear nginx on a host: the section run by a real sh
 * against this machine's kernel, in its initial namespaces and in a PID namespace of its own (as
 * a container, or a lab host, where the kernel ignores the subscription), and what deploy and
 * verify make of the answer.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { joinSections, parseSections } from '../../../src/remote/section.js';
import { procEventsProblem, procEventsSection, usesTrackProcess } from '../../../src/remote/sections/proc-events.js';
import { render } from '../../../src/remote/script.js';

const text = render(joinSections([procEventsSection]), '');
const parse = (out: string) => parseSections([procEventsSection] as const, out)[0];

/**
 * The real test needs Linux, root (CAP_NET_ADMIN to subscribe), python3, unshare, and this
 * process in the initial PID namespace (one pid in /proc/self/status's NSpid line).
 */
const initialPidNs = () =>
  readFileSync('/proc/self/status', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('NSpid:'))
    ?.trim()
    .split(/\s+/).length === 2;
const canRun =
  process.platform === 'linux' &&
  process.getuid?.() === 0 &&
  spawnSync('python3', ['-c', '0']).status === 0 &&
  spawnSync('unshare', ['--version']).status === 0 &&
  initialPidNs();
const real = canRun ? test : test.skip;

real('in the initial namespaces the kernel answers: yes', () => {
  expect(parse(execFileSync('sh', ['-c', text], { encoding: 'utf8' }))).toBe('yes');
});

real('in a PID namespace of its own (a container) it does not: no', () => {
  const out = execFileSync('unshare', ['--pid', '--fork', '--mount-proc', 'sh', '-c', text], { encoding: 'utf8' });
  expect(parse(out)).toBe('no');
});

real('in a network namespace of its own the connector is missing: no', () => {
  const out = execFileSync('unshare', ['--net', 'sh', '-c', text], { encoding: 'utf8' });
  expect(parse(out)).toBe('no');
});

test('without python3 the answer is unknown, and only no is a problem', () => {
  const out = execFileSync('/bin/sh', ['-c', text], { encoding: 'utf8', env: { PATH: '/nonexistent' } });
  expect(parse(out)).toBe('unknown');
  expect(procEventsProblem('lb1', 'both', 'unknown')).toBeUndefined();
  expect(procEventsProblem('lb1', 'both', 'yes')).toBeUndefined();
  expect(procEventsProblem('lb1', 'both', 'no')).toMatch(/^health_check\.mode both .*lb1 .*FAULT.*mode: script$/);
});

test('only process and both use track_process', () => {
  expect(['script', 'process', 'both', 'none'].filter(usesTrackProcess)).toEqual(['process', 'both']);
});
