/** Parsers shared by init's flags and prompts. */
import {
  parseBackends,
  parseLbs,
  parsePriorities,
  parseServerNames,
  parseVip,
  parseVrid,
  siteName,
  splitList,
} from '../../../src/init/answers.js';

const val = <T>(p: { ok: true; value: T } | { ok: false; error: string }) => (p.ok ? p.value : p.error);

test('load balancers: name=address or address; at least two; no duplicates', () => {
  expect(val(parseLbs(['kl1=192.168.10.20', 'kl2=192.168.10.30']))).toEqual([
    { name: 'kl1', address: '192.168.10.20' },
    { name: 'kl2', address: '192.168.10.30' },
  ]);
  expect(val(parseLbs(['10.0.0.1', 'lb-b.example.com']))).toEqual([
    { name: 'lb1', address: '10.0.0.1' },
    { name: 'lb-b', address: 'lb-b.example.com' },
  ]);
  expect(val(parseLbs(['10.0.0.1']))).toMatch(/at least two/);
  expect(val(parseLbs(['a=10.0.0.1', 'a=10.0.0.2']))).toMatch(/"a" is given twice/);
  expect(val(parseLbs(['a=10.0.0.1', 'b=10.0.0.1']))).toMatch(/10.0.0.1 is given twice/);
  expect(val(parseLbs(['a b=10.0.0.1', 'c=10.0.0.2']))).toMatch(/not a usable name/);
  expect(val(parseLbs(['a=$(reboot)', 'c=10.0.0.2']))).toMatch(/not an IP address or host name/);
});

test('backends: [name=]address[:port]', () => {
  expect(val(parseBackends(['10.0.0.10', 'api=10.0.0.11:8080', '[2001:db8::1]:81']))).toEqual([
    { name: 'web1', address: '10.0.0.10', port: 80 },
    { name: 'api', address: '10.0.0.11', port: 8080 },
    { name: 'web3', address: '2001:db8::1', port: 81 },
  ]);
  expect(val(parseBackends(['10.0.0.10:99999']))).toMatch(/port 99999/);
  expect(val(parseBackends([]))).toMatch(/at least one/);
});

test('VIP, VRID, priorities, server names', () => {
  expect(val(parseVip('10.0.0.60/24'))).toBe('10.0.0.60/24');
  expect(val(parseVip('10.0.0.60'))).toMatch(/with a prefix/);
  expect(val(parseVrid('51'))).toBe(51);
  expect(val(parseVrid('256'))).toMatch(/1-255/);
  expect(val(parsePriorities('a=150, b=100', ['a', 'b']))).toEqual({ a: 150, b: 100 });
  expect(val(parsePriorities('a=150', ['a', 'b']))).toMatch(/give a priority for b/);
  expect(val(parsePriorities('a=100,b=100', ['a', 'b']))).toMatch(/distinct/);
  expect(val(parsePriorities('a=150,c=100', ['a', 'b']))).toMatch(/"c" is not a load balancer/);
  expect(val(parseServerNames(['www.example.com', '*.example.com']))).toEqual(['www.example.com', '*.example.com']);
  expect(val(parseServerNames(['bad name;']))).toMatch(/not a server name/);
  expect(siteName(['*.shop.example.com'])).toBe('shop');
  expect(splitList(' a, b  c,,')).toEqual(['a', 'b', 'c']);
});
