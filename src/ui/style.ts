/**
 * Colours and tables for what hactl prints on stdout. Colours come from ansis (oclif's own), and
 * whether to use them is decided here, per call, from the environment:
 * - NO_COLOR set and not empty: never (https://no-color.org), whatever else is set;
 * - FORCE_COLOR set and not empty: always, unless it is 0 or false (as Node and chalk read it);
 * - TERM=dumb: never; otherwise only when stdout is a terminal.
 */
import ansis from 'ansis';

export function colourWanted(env: NodeJS.ProcessEnv, isTTY: boolean): boolean {
  if (env.NO_COLOR) return false;
  const force = env.FORCE_COLOR;
  if (force) return !['0', 'false'].includes(force.toLowerCase());
  if (env.TERM === 'dumb') return false;
  return isTTY;
}

const enabled = () => colourWanted(process.env, Boolean(process.stdout.isTTY));
const paint = (style: (s: string) => string) => (s: string) => (enabled() ? style(s) : s);
export const green = paint(ansis.green);
export const red = paint(ansis.red);
export const yellow = paint(ansis.yellow);
export const dim = paint(ansis.dim);
export const bold = paint(ansis.bold);

/** Columns of the terminal stdout is; undefined for a pipe or a file (nothing is wrapped there). */
export function terminalWidth(): number | undefined {
  return process.stdout.isTTY ? process.stdout.columns : undefined;
}

// eslint-disable-next-line no-control-regex
const visible = (s: string) => s.replace(/\u001b\[\d+(;\d+)*m/g, '').length;

/** Splits text into lines of at most `width` visible characters, at spaces where it can. */
function wrapText(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    const joined = line ? `${line} ${word}` : word;
    if (visible(joined) <= width) line = joined;
    else {
      if (line) lines.push(line);
      line = word;
      // A word longer than the column (a path, a fingerprint) is cut where it must be.
      while (visible(line) > width && !line.includes('\u001b')) {
        lines.push(line.slice(0, width));
        line = line.slice(width);
      }
    }
  }
  lines.push(line);
  return lines;
}

/**
 * Columns padded to their widest cell, two spaces apart. On a terminal narrower than the table,
 * the last column wraps onto continuation lines under itself (never below 20 characters).
 */
export function table(rows: string[][], header?: string[], width = terminalWidth()): string {
  const all = header ? [header, ...rows] : rows;
  const widths = all[0]?.map((_, i) => Math.max(...all.map((r) => visible(r[i] ?? '')))) ?? [];
  const lastAt = widths.slice(0, -1).reduce((n, w) => n + w + 2, 0);
  const room = width === undefined ? Infinity : Math.max(20, width - lastAt);
  const line = (r: string[]) => {
    const cells = r.map((c, i) => (i === r.length - 1 ? c : c + ' '.repeat(widths[i] - visible(c))));
    const last = cells.pop() ?? '';
    const [first, ...more] = visible(last) > room ? wrapText(last, room) : [last];
    const head = [...cells, first].join('  ').trimEnd();
    return [head, ...more.map((m) => ' '.repeat(lastAt) + m)].join('\n');
  };
  const out = all.map(line);
  const rule = widths.map((w, i) => '-'.repeat(i === widths.length - 1 ? Math.min(w, room) : w));
  if (header) out.splice(1, 0, rule.join('  '));
  return out.join('\n');
}
