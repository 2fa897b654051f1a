/**
 * Values written unquoted into nginx.conf (server_name, proxy_set_header) or sent as HTTP by the
 * checks (health_host, health_path). nginx's lexer (ngx_conf_read_token) ends a word at
 * whitespace, ; or { (except the { of ${var}); a word that starts with # is a comment and one
 * that starts with a quote is a quoted string; a backslash keeps the next character in the word,
 * and \\ \" \' \t \n \r are rewritten when the word is copied. `$name` is a variable where the
 * directive takes variables (proxy_set_header values), plain text in server_name.
 */
import { DOMAIN } from './grammar-addresses.js';
import { badChars, isControl, type Grammar, type Verdict } from './grammar.js';

const REGEX_CHAR = String.raw`[^\s;{}\\\u0000-\u001f\u007f]`;
/** A backslash escape nginx copies as written (it rewrites only \\ \t \n \r, and \" \' harmlessly). */
const REGEX_ESCAPE = String.raw`\\[^\\tnr\u0000-\u001f\u007f]`;

const NAMES_FIX =
  'write a host name (www.example.com), a wildcard (*.example.com, www.example.*, .example.com), $hostname or a regular expression starting with ~';

function regexProblem(v: string): Verdict {
  const fix = 'rewrite it without spaces, ; { } (e.g. \\d\\d\\d instead of \\d{3}), or list the names one by one';
  if (v === '~') return { message: 'is an empty regular expression', fix };
  const ends = badChars(v.replace(/\\[^\\tnr]/g, ''), /[^\s;{}]/);
  if (ends)
    return {
      message: `contains ${ends}: hactl writes server names unquoted, and nginx would end the name there`,
      fix,
    };
  if (/\\[\\tnr]|\\$/.test(v))
    return {
      message:
        'contains \\\\, \\t, \\n, \\r or a final \\, which nginx rewrites in unquoted text: the expression would change',
      fix,
    };
  return { message: `contains ${badChars(v, (c) => !isControl(c))}`, fix };
}

function literalNameProblem(v: string): Verdict {
  const odd = badChars(v, /[A-Za-z0-9_.*:/-]/);
  if (odd) return { message: `contains ${odd}`, fix: NAMES_FIX };
  if (/^[a-z]+:\/\//i.test(v) || v.includes('/'))
    return { message: 'is a URL or has a path; server_name takes host names only', fix: NAMES_FIX };
  if (/^[^:]+:\d+$/.test(v)) return { message: 'carries a port', fix: "give the port as the site's port:" };
  if (v.includes('*'))
    return {
      message:
        'has a wildcard nginx does not take: only a whole first label (*.example.com) or last label (www.example.*)',
      fix: NAMES_FIX,
    };
  if (v.endsWith('.')) return { message: 'ends with a dot', fix: `write ${v.replace(/\.+$/, '')}` };
  if (v.includes(':')) return { message: 'contains ":"', fix: NAMES_FIX };
  return {
    message: 'is not a host name: each dot-separated label starts and ends with a letter or digit (at most 63)',
    fix: NAMES_FIX,
  };
}

export const SERVER_NAME: Grammar = {
  pattern: `^(?:(?:\\*\\.|\\.)?${DOMAIN}|${DOMAIN}\\.\\*|\\$hostname|~(?:${REGEX_CHAR}|${REGEX_ESCAPE})+)$`,
  explain(v) {
    if (v === '')
      return {
        message: 'is empty: hactl writes server names unquoted, so an empty one would vanish from the list',
        fix: 'remove it (requests without a Host header already go to the default server of the port)',
      };
    if (v.startsWith('~')) return regexProblem(v);
    if (/^\$[A-Za-z0-9_]+$/.test(v))
      return { message: 'is a variable; server_name takes only $hostname', fix: NAMES_FIX };
    return literalNameProblem(v);
  },
};

export const HEALTH_HOST: Grammar = {
  pattern: `^(?:${DOMAIN}\\.?|\\[[0-9A-Fa-f:.]+\\])(?::[0-9]{1,5})?$`,
  explain(v) {
    const fix = 'write one host name the site answers to, e.g. www.example.com';
    if (/[*~$]/.test(v[0] ?? '') || v.includes('*'))
      return { message: 'is a pattern; health_host is sent as the Host header of each check', fix };
    if (/^[a-z]+:\/\//i.test(v) || v.includes('/'))
      return { message: 'is a URL or has a path; the path goes in health_path', fix };
    const bad = badChars(v, /[A-Za-z0-9_.:[\]-]/);
    return { message: bad ? `contains ${bad}` : 'is not a host name', fix };
  },
};

const PCHAR = String.raw`[A-Za-z0-9._~!$&'()*+,;=:@/-]|%[0-9A-Fa-f]{2}`;

export const HEALTH_PATH: Grammar = {
  pattern: `^/(?:${PCHAR})*(?:\\?(?:${PCHAR}|\\?)*)?$`,
  explain(v) {
    const fix = 'write a URL path such as /healthz or /status?full=1, with other characters as %XX';
    if (/^[a-z]+:\/\//i.test(v)) return { message: 'is a whole URL; only the path belongs here', fix };
    if (!v.startsWith('/')) return { message: 'does not start with /', fix };
    if (v.includes('#')) return { message: 'contains #: a fragment is never sent to the server', fix };
    if (/%(?![0-9A-Fa-f]{2})/.test(v)) return { message: 'has a % that does not start a %XX escape', fix };
    const bad = badChars(v, /[A-Za-z0-9._~!$&'()*+,;=:@/?%-]/);
    return { message: `contains ${bad || 'a character'} that a URL cannot hold unencoded`, fix };
  },
};

export const HEADER_NAME: Grammar = {
  pattern: '^[A-Za-z0-9_-]{1,64}$',
  explain(v) {
    const fix = 'write the header name alone, e.g. X-Forwarded-Proto (letters, digits, - and _, at most 64)';
    if (v.endsWith(':')) return { message: 'ends with ":"', fix };
    const bad = badChars(v, /[A-Za-z0-9_-]/);
    return { message: bad ? `contains ${bad}` : `is ${v.length ? 'longer than 64 characters' : 'empty'}`, fix };
  },
};

/** One unquoted nginx word: text, $name and ${name}. */
export const HEADER_VALUE: Grammar = {
  pattern: String.raw`^(?![#'"])(?:[!-#%-:<-\[\]-z|~]|\$[A-Za-z0-9_]+|\$\{[A-Za-z_][A-Za-z0-9_]*\})+$`,
  explain(v) {
    const fix = 'write one word of text and $variables, e.g. $scheme://$host (hactl writes the value unquoted)';
    if (v === '') return { message: 'is empty, and hactl writes header values unquoted', fix: 'remove the header' };
    if (/\s/.test(v)) return { message: 'contains a space: nginx would read the rest as another argument', fix };
    if (v.includes(';')) return { message: 'contains ";", which would end the directive', fix };
    if (/[#'"]/.test(v[0]))
      return {
        message: `starts with ${JSON.stringify(v[0])}, which nginx reads as ${v[0] === '#' ? 'a comment' : 'a quote'}`,
        fix,
      };
    if (v.includes('\\')) return { message: 'contains \\, which nginx reads as an escape', fix };
    if (/[{}]/.test(v.replace(/\$\{[A-Za-z_][A-Za-z0-9_]*\}/g, '')))
      return { message: 'contains a brace nginx would read as a block (a variable is written ${name})', fix };
    if (/\$(?![A-Za-z0-9_{])/.test(v)) return { message: 'has a $ that does not start a variable name', fix };
    return { message: `contains ${badChars(v, /[!-~]/) || 'a character nginx cannot take here'}`, fix };
  },
};
