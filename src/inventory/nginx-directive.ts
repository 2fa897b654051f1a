/**
 * The rule for `extra`: each item is written as `    <item>;` inside the site's server block,
 * so it must be exactly one simple directive when nginx reads it. This follows nginx's lexer
 * (ngx_conf_read_token) word by word:
 * - outside quotes, ; ends the directive (what follows would be a second directive) and { opens
 *   a block (except the { of ${var}), so neither may appear there; a word starting with } would
 *   close the server block, and one starting with # would comment out the rest and the ; hactl
 *   adds;
 * - quotes ("..." or '...') must be closed and followed by a space; inside them ; { } # are text;
 * - a backslash keeps the next character in the word, so a final backslash would swallow the ;;
 * - the first word is a directive name (lower case, digits, _);
 * - one line: no line breaks or other control characters (the template writes one per line).
 */
import { charName, isControl, type Verdict } from './grammar.js';

const FIX =
  'write one directive without the trailing ;, e.g. client_max_body_size 10m or add_header X-Frame-Options "DENY"; put text holding spaces, ; { } or # in quotes';

type State = 'space' | 'word' | 'quoted' | 'after-quote';

interface Lexer {
  state: State;
  quote: string;
  variable: boolean;
  words: string[];
}

/** Advances the lexer over one character at i; returns a reason when nginx would read it differently. */
function step(lx: Lexer, text: string, i: number): string | undefined {
  const c = text[i];
  const at = `at character ${i + 1}`;
  const white = c === ' ' || c === '\t';
  if (lx.state === 'quoted') {
    if (c === lx.quote) lx.state = 'after-quote';
    return undefined;
  }
  if (lx.state === 'after-quote') {
    if (white) lx.state = 'space';
    else if (c !== ')') return `the quoted string ending ${at} must be followed by a space`;
    return undefined;
  }
  if (white) {
    lx.state = 'space';
    return undefined;
  }
  if (c === ';') return `the ; ${at} ends the directive; the text after it would be read as another directive`;
  if (c === '{' && !(lx.state === 'word' && lx.variable)) return `the { ${at} opens a block`;
  if (lx.state === 'space') {
    if (c === '}') return `the } ${at} would close the server block`;
    if (c === '#') return `the # ${at} starts a comment that hides the rest, and the ; hactl adds`;
    lx.words.push('');
    lx.state = c === '"' || c === "'" ? 'quoted' : 'word';
    lx.quote = c;
  }
  lx.words[lx.words.length - 1] += c;
  lx.variable = c === '$';
  return undefined;
}

function lex(text: string): { words: string[]; reason?: string } {
  const lx: Lexer = { state: 'space', quote: '', variable: false, words: [] };
  for (let i = 0; i < text.length; i++) {
    if (text[i] !== '\t' && isControl(text[i]))
      return { words: lx.words, reason: `it contains ${charName(text[i])}; write the directive on one line` };
    if (text[i] === '\\') {
      if (i + 1 >= text.length) return { words: lx.words, reason: 'the final \\ would escape the ; hactl adds' };
      if (lx.state === 'after-quote')
        return { words: lx.words, reason: `the quoted string ending at character ${i} must be followed by a space` };
      if (lx.state === 'space') {
        lx.words.push('');
        lx.state = 'word';
      }
      lx.words[lx.words.length - 1] += text.slice(i, i + 2);
      lx.variable = false;
      i++;
      continue;
    }
    const reason = step(lx, text, i);
    if (reason) return { words: lx.words, reason };
  }
  if (lx.state === 'quoted') return { words: lx.words, reason: `the ${lx.quote} quote is not closed` };
  return { words: lx.words };
}

/** Why `text` is not one simple nginx directive, or undefined when it is. */
export function directiveProblem(text: string): Verdict | undefined {
  const { words, reason } = lex(text);
  if (reason) return { message: reason, fix: FIX };
  if (words.length === 0) return { message: 'it is empty', fix: FIX };
  if (!/^[a-z_][a-z0-9_]*$/.test(words[0]))
    return { message: `${JSON.stringify(words[0])} is not a directive name`, fix: FIX };
  return undefined;
}
