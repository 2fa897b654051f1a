/**
 * Names written unquoted into keepalived.conf (router_id, vrrp_instance, interface, label),
 * nginx.conf (upstream, add_header) and file names, plus the SSH and environment names hactl
 * passes on. keepalived splits words on whitespace, reads # and ! as comments, " as quotes and
 * { } as blocks; nginx ends a word at whitespace, ; or {. The allow-lists below hold none of
 * those, so a name means the same in every file it reaches.
 */
import { badChars, type Grammar } from './grammar.js';

const NAME_FIX =
  'use letters, digits and - _ . (at most 63, starting with a letter or digit): names are written unquoted into keepalived.conf, nginx.conf and file names';

export const NAME: Grammar = {
  pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$',
  explain(v) {
    if (v === '') return { message: 'is empty', fix: NAME_FIX };
    const bad = badChars(v, /[A-Za-z0-9_.-]/);
    if (bad) return { message: `contains ${bad}`, fix: NAME_FIX };
    if (v.length > 63) return { message: `is ${v.length} characters long; a name is at most 63`, fix: NAME_FIX };
    return { message: 'must start with a letter or a digit', fix: NAME_FIX };
  },
};

const IFACE_FIX = 'use the name `ip link` shows, e.g. eth0 or ens3 (at most 15 characters: letters, digits, - _ . @)';

export const INTERFACE: Grammar = {
  pattern: '^[A-Za-z0-9_][A-Za-z0-9_.@-]{0,14}$',
  explain(v) {
    if (/^[A-Za-z0-9_.@-]+:[A-Za-z0-9_]+$/.test(v))
      return {
        message: 'is an address label, not an interface',
        fix: `write interface: ${v.split(':')[0]}, and label: ${v} on the VIP`,
      };
    const bad = badChars(v, /[A-Za-z0-9_.@-]/);
    if (bad) return { message: `contains ${bad}, which a Linux interface name cannot hold here`, fix: IFACE_FIX };
    if (v.length > 15)
      return { message: `is ${v.length} characters; Linux interface names are at most 15`, fix: IFACE_FIX };
    return { message: v === '' ? 'is empty' : 'must start with a letter, a digit or _', fix: IFACE_FIX };
  },
};

const LABEL_FIX = 'write <interface>:<suffix> in at most 15 characters, e.g. eth0:1';

export const LABEL: Grammar = {
  pattern: '^(?=.{1,15}$)[A-Za-z0-9_][A-Za-z0-9_.@-]*:[A-Za-z0-9_]+$',
  explain(v) {
    const bad = badChars(v, /[A-Za-z0-9_.@:-]/);
    if (bad) return { message: `contains ${bad}`, fix: LABEL_FIX };
    if (v.length > 15)
      return {
        message: `is ${v.length} characters; keepalived drops the whole address when its label is longer than 15 (IFNAMSIZ)`,
        fix: LABEL_FIX,
      };
    if (!v.includes(':')) return { message: 'has no ":"; an address label is <interface>:<suffix>', fix: LABEL_FIX };
    return { message: 'is not <interface>:<suffix>', fix: LABEL_FIX };
  },
};

export const ENV_NAME: Grammar = {
  pattern: '^[A-Za-z_][A-Za-z0-9_]*$',
  explain(v) {
    if (v.startsWith('$'))
      return { message: 'starts with $', fix: `write the variable's name alone: ${v.replace(/^\$\{?|\}$/g, '')}` };
    const bad = badChars(v, /[A-Za-z0-9_]/);
    return {
      message: bad ? `contains ${bad}` : 'must start with a letter or _',
      fix: 'an environment variable name is letters, digits and _, e.g. HACTL_VRRP_PASS',
    };
  },
};

export const SSH_USER: Grammar = {
  pattern: '^[A-Za-z_][A-Za-z0-9_.-]{0,31}\\$?$',
  explain(v) {
    if (v.includes('@')) return { message: 'contains @', fix: 'write the user alone; the host goes in address:' };
    const bad = badChars(v, /[A-Za-z0-9_.$-]/);
    return {
      message: bad ? `contains ${bad}` : 'is not a user name (at most 32 characters, starting with a letter or _)',
      fix: 'write the login name, e.g. deploy',
    };
  },
};

export const FILE_PATH: Grammar = {
  pattern: '^[^\\u0000]*$',
  explain: () => ({ message: 'contains a NUL character, which no file path can hold', fix: 'remove it' }),
};

const JUMP_FIX = 'write [user@]host[:port], e.g. admin@bastion.example.com:2222';
const PORT = '(?:[1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5])';

export const JUMP_HOST: Grammar = {
  pattern: `^(?:[A-Za-z_][A-Za-z0-9_.-]*@)?(?!-)(?:[A-Za-z0-9_.-]+|\\[[0-9A-Fa-f:.]+\\])(?::${PORT})?$`,
  explain(v) {
    if (v.includes(','))
      return { message: 'is a chain of jump hosts, which hactl does not support', fix: 'use one bastion' };
    if (/^[a-z]+:\/\//.test(v)) return { message: 'is written as a URL', fix: JUMP_FIX };
    const host = v.slice(v.lastIndexOf('@') + 1);
    if (host.startsWith('-')) return { message: 'has a host that starts with -', fix: JUMP_FIX };
    const bad = badChars(v, /[A-Za-z0-9_.:@[\]-]/);
    if (bad) return { message: `contains ${bad}`, fix: JUMP_FIX };
    if (/:\d+$/.test(host) && !/::/.test(host)) return { message: 'has a port outside 1-65535', fix: JUMP_FIX };
    return { message: 'is not [user@]host[:port] (an IPv6 host goes in brackets)', fix: JUMP_FIX };
  },
};
