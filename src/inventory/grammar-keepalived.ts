/**
 * The VRRP password is written as `auth_pass <password>`, one unquoted word, and keepalived's
 * reader (lib/parser.c) gives meaning to some characters anywhere in a line: # and ! start a
 * comment, " starts a quoted string, \ escapes the next character (and continues a line at the
 * end), { and } open and close blocks, and $NAME or ${NAME} is replaced by a definition
 * (keepalived defines $_PWD, $_INSTANCE and $_RANDOM itself). A password holding any of those
 * would be cut short or changed. The reasons never show the password, nor which character it is.
 */
export const PASSWORD_RULE =
  'printable ASCII without spaces, # ! " \\ { }, or a $ before a letter, _ or {; at most 8 characters';

/** Why keepalived would read a different password than `pass`, or undefined. */
export function passwordCharsProblem(pass: string): string | undefined {
  if (!/^[\x21-\x7e]+$/.test(pass)) return 'the VRRP password must be printable ASCII without spaces';
  if (/[#!]/.test(pass))
    return 'the VRRP password contains # or !, where keepalived.conf starts a comment: keepalived would use only the part before it';
  if (/["\\{}]/.test(pass))
    return 'the VRRP password contains " \\ { or }, which keepalived.conf reads as a quote, an escape or a block';
  if (/\$[A-Za-z_{]/.test(pass))
    return 'the VRRP password contains $ before a name, which keepalived.conf replaces by a definition ($_PWD, $_RANDOM…)';
  return undefined;
}
