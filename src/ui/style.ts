/** Colour only on a terminal and never with NO_COLOR (https://no-color.org). */
const enabled = () => Boolean(process.stdout.isTTY) && !('NO_COLOR' in process.env) && process.env.TERM !== 'dumb';
const wrap = (open: number, close: number) => (s: string) => (enabled() ? `\u001b[${open}m${s}\u001b[${close}m` : s);
export const green = wrap(32, 39);
export const red = wrap(31, 39);
export const yellow = wrap(33, 39);
export const dim = wrap(2, 22);
export const bold = wrap(1, 22);

export function table(rows: string[][], header?: string[]): string {
  const all = header ? [header, ...rows] : rows;
  // eslint-disable-next-line no-control-regex
  const visible = (s: string) => s.replace(/\u001b\[\d+m/g, '').length;
  const widths = all[0]?.map((_, i) => Math.max(...all.map((r) => visible(r[i] ?? '')))) ?? [];
  const line = (r: string[]) =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c + ' '.repeat(widths[i] - visible(c))))
      .join('  ')
      .trimEnd();
  const out = all.map(line);
  if (header) out.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '));
  return out.join('\n');
}
