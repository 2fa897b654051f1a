/**
 * A strict parser of the Prometheus text exposition format (0.0.4), for tests: it refuses what
 * Prometheus's own parser refuses and what its format description forbids, so output that
 * passes here is what a scrape, the textfile collector or a pushgateway accepts.
 * - lines end with \n, the last one too; HELP and TYPE at most once per family, TYPE before its
 *   first sample; a family's lines are contiguous;
 * - names [a-zA-Z_:][a-zA-Z0-9_:]*, label names [a-zA-Z_][a-zA-Z0-9_]* not starting __;
 * - label values in double quotes with only \\ \" \n escapes; HELP text with only \\ \n;
 * - a value is a float, NaN, +Inf or -Inf; an optional integer timestamp follows;
 * - no label twice in a sample, no series twice.
 */
export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface PromFamily {
  name: string;
  type?: string;
  help?: string;
  samples: PromSample[];
}

const METRIC = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
const FLOAT = /^[-+]?(?:\d+\.?\d*(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?)$/;

function unescape(s: string, allowed: string, where: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    if (s[i] !== '\\') {
      out += s[i];
      continue;
    }
    const c = s[++i];
    if (c === undefined || !allowed.includes(c)) throw new Error(`${where}: invalid escape \\${c ?? ''}`);
    out += c === 'n' ? '\n' : c;
  }
  return out;
}

function value(s: string, where: string): number {
  if (s === 'NaN') return NaN;
  if (s === '+Inf') return Infinity;
  if (s === '-Inf') return -Infinity;
  if (!FLOAT.test(s)) throw new Error(`${where}: invalid value ${JSON.stringify(s)}`);
  return Number(s);
}

/** `{a="x",b="y"}` → labels and the rest of the line after the closing brace. */
function labels(line: string, at: number, where: string): { labels: Record<string, string>; rest: string } {
  const out: Record<string, string> = {};
  let i = at + 1;
  for (;;) {
    if (line[i] === '}') return { labels: out, rest: line.slice(i + 1) };
    const eq = line.indexOf('=', i);
    if (eq < 0) throw new Error(`${where}: label without =`);
    const name = line.slice(i, eq);
    if (!LABEL.test(name) || name.startsWith('__')) throw new Error(`${where}: invalid label name ${name}`);
    if (name in out) throw new Error(`${where}: label ${name} twice`);
    if (line[eq + 1] !== '"') throw new Error(`${where}: label value not quoted`);
    let j = eq + 2;
    while (j < line.length && line[j] !== '"') j += line[j] === '\\' ? 2 : 1;
    if (j >= line.length) throw new Error(`${where}: unterminated label value`);
    out[name] = unescape(line.slice(eq + 2, j), '\\"n', where);
    i = j + 1;
    if (line[i] === ',') i++;
    else if (line[i] !== '}') throw new Error(`${where}: expected , or } after a label`);
  }
}

function sampleLine(line: string, where: string): PromSample {
  const brace = line.indexOf('{');
  const space = line.indexOf(' ');
  const nameEnd = brace >= 0 && (space < 0 || brace < space) ? brace : space;
  if (nameEnd <= 0) throw new Error(`${where}: no value`);
  const name = line.slice(0, nameEnd);
  if (!METRIC.test(name)) throw new Error(`${where}: invalid metric name ${name}`);
  const { labels: l, rest } =
    nameEnd === brace ? labels(line, brace, where) : { labels: {}, rest: line.slice(nameEnd) };
  if (!rest.startsWith(' ')) throw new Error(`${where}: expected a space before the value`);
  const parts = rest.slice(1).split(' ');
  if (parts.length > 2 || parts.some((p) => p === '')) throw new Error(`${where}: expected "value [timestamp]"`);
  if (parts[1] !== undefined && !/^-?\d+$/.test(parts[1])) throw new Error(`${where}: invalid timestamp`);
  return { name, labels: l, value: value(parts[0], where) };
}

export function parsePromText(text: string): Map<string, PromFamily> {
  if (text.length > 0 && !text.endsWith('\n')) throw new Error('the last line does not end with a newline');
  const families = new Map<string, PromFamily>();
  const series = new Set<string>();
  let current: string | undefined;
  const family = (name: string, where: string) => {
    if (current !== name && families.has(name)) throw new Error(`${where}: family ${name} is not contiguous`);
    current = name;
    if (!families.has(name)) families.set(name, { name, samples: [] });
    return families.get(name)!;
  };
  text
    .slice(0, -1)
    .split('\n')
    .forEach((line, i) => {
      const where = `line ${i + 1}`;
      if (line === '') return;
      const meta = /^# (HELP|TYPE) (\S+)(?: (.*))?$/.exec(line);
      if (meta) {
        const [, kind, name, rest = ''] = meta;
        if (!METRIC.test(name)) throw new Error(`${where}: invalid metric name ${name}`);
        const f = family(name, where);
        if (kind === 'HELP') {
          if (f.help !== undefined) throw new Error(`${where}: second HELP for ${name}`);
          f.help = unescape(rest, '\\n', where);
        } else {
          if (f.type !== undefined) throw new Error(`${where}: second TYPE for ${name}`);
          if (f.samples.length) throw new Error(`${where}: TYPE for ${name} after its samples`);
          if (!TYPES.has(rest)) throw new Error(`${where}: unknown type ${rest}`);
          f.type = rest;
        }
        return;
      }
      if (line.startsWith('#')) return;
      const s = sampleLine(line, where);
      const key = `${s.name}${JSON.stringify(Object.entries(s.labels).sort())}`;
      if (series.has(key)) throw new Error(`${where}: series ${key} twice`);
      series.add(key);
      family(s.name, where).samples.push(s);
    });
  return families;
}
