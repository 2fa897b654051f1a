/** A value of the wrong type: the message says how to write it, at the value's place. */
import { readFileSync } from 'node:fs';
import { fixturePath, loadText } from '../../helpers/inventory.js';

const BASE = readFileSync(fixturePath('active-passive.yaml'), 'utf8');

/** Replaces one text of the base fixture and returns the single schema problem at `path`. */
function problemAt(from: string, to: string, path: string) {
  expect(BASE).toContain(from);
  const text = BASE.replace(from, to);
  const hit = loadText(text).problems.find((p) => p.path === path);
  if (!hit) throw new Error(`no problem at ${path}: ${JSON.stringify(loadText(text).problems, null, 1)}`);
  const line = text.split('\n').findIndex((l) => l.includes(to.split('\n')[0])) + 1;
  expect(hit.line).toBe(line);
  return hit;
}

const VIP = 'vips[0]';
const vip = `{ name: vip1, address: 10.0.0.100/24, vrid: 51, master: lb1, label: "eth0:1" }`;

it.each([
  [
    'unicast: yes',
    'unicast: yes',
    /expected true or false, got "yes"/,
    /write true without quotes: YAML 1.2 reads "yes" as text/,
  ],
  ['preempt: off', 'preempt: off', /got "off"/, /write false without quotes/],
  ['preempt: maybe', 'preempt: maybe', /got "maybe"/, /^write true or false$/],
  ['vrid: "51"', 'vrid: "51"', /expected a whole number, got "51"/, /write 51 without quotes/],
  ['vrid: 51.5', 'vrid: 51.5', /got 51.5/, /write a whole number$/],
  ['advert_int: 1s', 'advert_int: 1s', /expected a number, got "1s"/, /without a unit/],
  ['name: 123', 'name: 123', /expected text, got 123/, /write it in quotes: "123"/],
  ['name: [a]', 'name: [a]', /got a list/, /one value, not a list/],
])('%s', (_n, change, message, fix) => {
  const key = change.split(':')[0];
  const p = problemAt(
    vip,
    vip.replace(/ }$/, `, ${change} }`).replace(`${key}: ${key === 'name' ? 'vip1' : '51'}, `, ''),
    `clusters[0].${VIP}.${key}`,
  );
  expect(p.message).toMatch(message);
  expect(p.fix).toMatch(fix);
});

it('a string where a list is expected', () => {
  const p = problemAt(
    'server_names: [www.example.com, example.com]',
    'server_names: www.example.com',
    'clusters[0].sites[0].server_names',
  );
  expect(p.message).toMatch(/expected a list, got "www.example.com"/);
  expect(p.fix).toBe('write a list: [www.example.com], or one "- www.example.com" line per item');
});

it('a list where a mapping is expected', () => {
  const p = problemAt(
    'vrrp: { auth: { type: PASS, pass: s3cret } }',
    'vrrp: [ { auth: { type: PASS, pass: s3cret } } ]',
    'clusters[0].vrrp',
  );
  expect(p.fix).toMatch(/without "- "/);
});

it('an empty value', () => {
  const p = problemAt('interface: eth0', 'interface:', 'clusters[0].interface');
  expect(p.message).toMatch(/expected text, got nothing/);
  expect(p.fix).toBe('give a value after the colon');
});

it('a literal in the wrong case or quoted', () => {
  const p = problemAt(vip, vip.replace(/ }$/, ', initial_state: master }'), `clusters[0].${VIP}.initial_state`);
  expect(p.fix).toBe('write MASTER, in that case');
  const q = problemAt(vip, vip.replace(/ }$/, ', vrrp_version: "3" }'), `clusters[0].${VIP}.vrrp_version`);
  expect(q.fix).toBe('write 3 without quotes');
});
