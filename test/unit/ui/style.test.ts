import { colourWanted, table } from '../../../src/ui/style.js';

describe('colour, as no-color.org and FORCE_COLOR say', () => {
  test.each([
    [{}, true, true],
    [{}, false, false],
    [{ NO_COLOR: '1' }, true, false],
    [{ NO_COLOR: '' }, true, true], // empty: not set
    [{ NO_COLOR: '1', FORCE_COLOR: '1' }, true, false], // the opt-out wins
    [{ FORCE_COLOR: '1' }, false, true],
    [{ FORCE_COLOR: '3' }, false, true],
    [{ FORCE_COLOR: '0' }, true, false],
    [{ FORCE_COLOR: 'false' }, true, false],
    [{ FORCE_COLOR: '' }, false, false],
    [{ TERM: 'dumb' }, true, false],
    [{ TERM: 'dumb', FORCE_COLOR: '1' }, false, true],
    [{ TERM: 'xterm-256color' }, true, true],
  ])('%j on a terminal: %s → %s', (env, tty, wanted) => {
    expect(colourWanted(env as NodeJS.ProcessEnv, tty)).toBe(wanted);
  });
});

describe('table', () => {
  const rows = [
    ['lb1', 'MASTER', 'keepalived running, nginx running'],
    ['lb2', 'BACKUP', 'keepalived running, nginx stopped: connection refused on 127.0.0.1:8099'],
  ];

  test('without a width (a pipe) nothing is wrapped', () => {
    expect(table(rows, ['host', 'state', 'services'])).toBe(
      [
        'host  state   services',
        '----  ------  -----------------------------------------------------------------------',
        'lb1   MASTER  keepalived running, nginx running',
        'lb2   BACKUP  keepalived running, nginx stopped: connection refused on 127.0.0.1:8099',
      ].join('\n'),
    );
  });

  test('on a narrow terminal the last column wraps under itself, at spaces; every line fits', () => {
    const out = table(rows, ['host', 'state', 'services'], 50);
    expect(out).toBe(
      [
        'host  state   services',
        '----  ------  ------------------------------------',
        'lb1   MASTER  keepalived running, nginx running',
        'lb2   BACKUP  keepalived running, nginx stopped:',
        '              connection refused on 127.0.0.1:8099',
      ].join('\n'),
    );
    for (const l of out.split('\n')) expect(l.length).toBeLessThanOrEqual(50);
  });

  test('a word longer than the column is cut; the column never gets narrower than 20', () => {
    const out = table([['x', 'SHA256:' + 'a'.repeat(40)]], undefined, 10);
    expect(out.split('\n')).toEqual(['x  SHA256:aaaaaaaaaaaaa', '   ' + 'a'.repeat(20), '   aaaaaaa']);
  });
});
