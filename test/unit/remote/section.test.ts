/** One marker protocol: sections joined in one exec, split back by name, each parsed by its own parser. */
import { execFileSync } from 'node:child_process';
import { gather, joinSections, parseSections, section, splitSections } from '../../../src/remote/section.js';
import { raw, render } from '../../../src/remote/script.js';
import { FakeTransport, ok, failed } from '../../helpers/fake-transport.js';
import { RemoteStepError } from '../../../src/errors.js';

const a = section('a', raw('echo one; echo @@b-like; echo two'), (l) => l.filter(Boolean));
const b = section('b', raw('echo 3'), (l) => Number(l[0]));
const bg = section(
  'bg',
  raw('wait; cat "$bg_f"; rm -f "$bg_f"'),
  (l) => l[0],
  raw('bg_f=$(mktemp); { echo later > "$bg_f"; } &'),
);

describe('sections', () => {
  test('one exec, each block to its parser; a marker of a section not asked for is data', () => {
    const out = execFileSync('sh', ['-c', render(joinSections([a, b, bg]))], { encoding: 'utf8' });
    expect(parseSections([a, b, bg] as const, out)).toEqual([['one', '@@b-like', 'two'], 3, 'later']);
  });

  test('output without the end marker (a cut-off run) is refused', () => {
    expect(() => splitSections('@@a\none\n', ['a'])).toThrow(/incomplete/);
  });

  test('a section asked twice, or a bad name, is a programming error', () => {
    expect(() => joinSections([a, a])).toThrow(/twice/);
    expect(() => section('Bad_Name', raw(':'), () => 0)).toThrow(/lower-case/);
  });

  test('gather names the host and step when the script fails or a parser throws', async () => {
    const t = new FakeTransport('lb1').on(/./, failed(3, 'boom'));
    await expect(gather(t, [b] as const, { step: 'facts' })).rejects.toThrow(
      /lb1: facts: the script failed \(exit 3\)/,
    );
    const bad = section('x', raw(':'), () => {
      throw new Error('unexpected line');
    });
    const t2 = new FakeTransport('lb2').on(/./, ok('@@x\nzzz\n@@end\n'));
    const err = await gather(t2, [bad] as const, { step: 'status' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RemoteStepError);
    expect((err as Error).message).toMatch(/lb2: status: section x: unexpected line/);
  });
});
