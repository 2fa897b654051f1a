/**
 * State-change hooks: the operator's command and webhook, which hactl's notify script (sh, run
 * by keepalived as root) calls with the event. Both are written into that script as one
 * single-quoted shell word each, so quoting alone would keep them inert; the grammars still
 * refuse what a shell, curl or a reader could take for something else (spaces, quotes, $, `,
 * backslashes, newlines), so the value in the inventory is exactly what runs.
 */
import { badChars, type Grammar } from './grammar.js';

const COMMAND_FIX =
  'give the absolute path of an executable (letters, digits and . _ + - /), e.g. /usr/local/bin/page-oncall; put arguments inside that script';

export const HOOK_COMMAND: Grammar = {
  pattern: '^/[A-Za-z0-9._+/-]*[A-Za-z0-9._+-]$',
  explain(v) {
    if (!v.startsWith('/')) return { message: 'is not an absolute path', fix: COMMAND_FIX };
    if (/\s/.test(v.trim()))
      return { message: 'holds a space: arguments are not passed (the event comes on stdin)', fix: COMMAND_FIX };
    const bad = badChars(v, /[A-Za-z0-9._+/-]/);
    if (bad) return { message: `contains ${bad}`, fix: COMMAND_FIX };
    return { message: 'ends with /, a directory', fix: COMMAND_FIX };
  },
};

const URL_FIX =
  'write http(s)://host[:port]/path with letters, digits and - . _ ~ : / ? # [ ] @ ! & + , ; = %, percent-encoding anything else';

export const WEBHOOK_URL: Grammar = {
  pattern: '^https?://[A-Za-z0-9.\\-\\[\\]:]+(?::[0-9]{1,5})?(?:[/?#][A-Za-z0-9\\-._~:/?#\\[\\]@!&+,;=%]*)?$',
  explain(v) {
    if (!/^https?:\/\//.test(v)) return { message: 'is not an http:// or https:// URL', fix: URL_FIX };
    const bad = badChars(v, /[A-Za-z0-9\-._~:/?#[\]@!&+,;=%]/);
    if (bad) return { message: `contains ${bad}, which the notify script would not pass on as written`, fix: URL_FIX };
    return { message: 'has no host', fix: URL_FIX };
  },
};
