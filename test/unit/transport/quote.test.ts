import { execFileSync, spawnSync } from 'node:child_process';
import { asRoot, quote, sh } from '../../../src/shell/quote.js';
import { remoteCommand } from '../../../src/transport/ssh.js';

/** Run shell text through the real /bin/sh -c, as sshd does with an exec request. */
const run = (script: string) =>
  execFileSync('/bin/sh', ['-c', script], { encoding: 'utf8', env: { PATH: process.env.PATH, HOME: '/nonexistent' } });

const HOSTILE = [
  '',
  ' ',
  'two words',
  "it's",
  "''",
  '"double"',
  '$(touch /tmp/hactl-pwned)',
  '`touch /tmp/hactl-pwned`',
  '$HOME ${HOME} $((1+1))',
  'a\nb\n',
  '\n',
  '*',
  '/etc/*',
  '?',
  '[a-z]',
  'a; echo injected',
  'a && echo injected || true',
  'a | cat',
  '> /tmp/x',
  '<<EOF',
  '\\',
  "\\'",
  '-n',
  '--',
  '~',
  '~root',
  '#comment',
  '!',
  '{a,b}',
  'tab\there',
  'ünïcødé → ☃ 日本語 🙂',
  '\x01\x7f',
  "'; rm -rf / #",
];

/** Deterministic pseudo-random strings over a nasty alphabet (property-style). */
function* generated(count: number): Generator<string> {
  const alphabet = ` \t\n'"\`$(){}[]<>|&;*?~#!\\%=,.:/-_aZ9é☃🙂`;
  const chars = [...alphabet];
  let seed = 0x2f6b3a1d;
  const next = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8;
  for (let i = 0; i < count; i++) {
    const len = next() % 24;
    yield Array.from({ length: len }, () => chars[next() % chars.length]).join('');
  }
}

describe('quoting through a real /bin/sh', () => {
  test.each(HOSTILE.map((s) => [JSON.stringify(s), s]))('printf %%s %s prints it exactly', (_label, x) => {
    expect(run(sh(['printf', '%s', x]))).toBe(x);
  });

  test('300 generated hostile strings round-trip, several per command line', () => {
    const all = [...generated(300)];
    for (let i = 0; i < all.length; i += 3) {
      const group = all.slice(i, i + 3);
      expect(run(sh(['printf', '%s\\0', ...group]))).toBe(group.map((s) => `${s}\0`).join(''));
    }
  });

  test('safe words stay unquoted; everything else is single-quoted', () => {
    expect(quote('nginx')).toBe('nginx');
    expect(quote('/etc/nginx/nginx.conf')).toBe('/etc/nginx/nginx.conf');
    expect(quote(8080)).toBe('8080');
    expect(quote('')).toBe("''");
    expect(quote("it's")).toBe("'it'\\''s'");
    expect(() => sh([])).toThrow();
  });
});

describe('asRoot', () => {
  test('wraps in sudo -n -- sh -c only when the target needs sudo', () => {
    expect(asRoot('id -u', false)).toBe('id -u');
    expect(asRoot('id -u', true)).toBe("sudo -n -- sh -c 'id -u'");
  });

  test('the transport uses asRoot for root scripts when target.sudo, and never for root: false', () => {
    const script = sh(['printf', '%s', "it's $(x)"]);
    expect(remoteCommand(script, true, true)).toBe(asRoot(script, true));
    expect(remoteCommand(script, true, true).startsWith('sudo -n -- sh -c ')).toBe(true);
    expect(remoteCommand(script, true, false)).toBe(script);
    expect(remoteCommand(script, false, true)).toBe(script);
  });

  test('a wrapped hostile script still prints exactly its argument (one more level of quoting)', () => {
    // Replace sudo by a stand-in that drops "-n --" and runs the rest, so this needs no sudo.
    for (const x of [...HOSTILE, ...generated(50)]) {
      const wrapped = asRoot(sh(['printf', '%s', x]), true);
      expect(run(`sudo() { shift 2; "$@"; }; ${wrapped}`)).toBe(x);
    }
  });

  const canSudo = process.getuid?.() === 0 && spawnSync('sudo', ['-n', 'true']).status === 0;
  (canSudo ? test : test.skip)('through the real sudo -n as root', () => {
    for (const x of HOSTILE) expect(run(asRoot(sh(['printf', '%s', x]), true))).toBe(x);
  });
});
