/**
 * OpenSSH known_hosts compatibility: parse the file (plain and hashed entries, `[host]:port`,
 * wildcards, negation, @revoked / @cert-authority markers) and decide whether a host key
 * offered during the handshake is known, unknown, changed or revoked. The policy that acts on
 * the decision (strict / accept-new) lives in host-key-policy below, wired to ssh2's
 * `hostVerifier(key, verify)` callback.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { appendFile, mkdir, readFile, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { HostKeyPolicy } from '../inventory/model.js';
import { sh } from '../shell/quote.js';
import { TransportError } from './transport.js';

export interface KnownHostsEntry {
  /** 1-based line number in the file. */
  line: number;
  marker?: 'revoked' | 'cert-authority';
  /** Comma-separated patterns (plain entries). */
  patterns?: string[];
  /** `|1|salt|hash` entries: HMAC-SHA1(salt, hostname). */
  hashed?: { salt: Buffer; hash: Buffer };
  keyType: string;
  keyBlob: Buffer;
}

export type HostKeyStatus = 'match' | 'unknown' | 'changed' | 'revoked';

export interface KnownKey {
  file: string;
  line: number;
  keyType: string;
  fingerprint: string;
}

export interface HostKeyCheck {
  status: HostKeyStatus;
  /** Fingerprints of the host keys known for this host (excluding @revoked and @cert-authority). */
  knownFingerprints: string[];
  /** The same keys with their file:line. For 'revoked', the revoking entry. */
  known: KnownKey[];
}

/** Fingerprint as `ssh-keygen -l` prints it: SHA256 of the key blob, base64 without padding. */
export function fingerprint(blob: Buffer): string {
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`;
}

/** The key type named inside an SSH wire-format public key blob (`string type, ...`). */
export function keyTypeOf(blob: Buffer): string {
  if (blob.length < 4) throw new Error('malformed SSH public key blob');
  const len = blob.readUInt32BE(0);
  if (len === 0 || len > 64 || 4 + len > blob.length) throw new Error('malformed SSH public key blob');
  return blob.subarray(4, 4 + len).toString('latin1');
}

/** The name OpenSSH looks up and hashes: `host` on port 22, `[host]:port` otherwise. */
export function hostKeyName(host: string, port: number): string {
  const h = host.toLowerCase();
  return port === 22 ? h : `[${h}]:${port}`;
}

export function parseKnownHosts(text: string): KnownHostsEntry[] {
  const entries: KnownHostsEntry[] = [];
  text.split('\n').forEach((raw, i) => {
    const fields = raw.trim().split(/[ \t]+/);
    if (fields[0] === '' || fields[0].startsWith('#')) return;
    let marker: KnownHostsEntry['marker'];
    if (fields[0].startsWith('@')) {
      const m = fields.shift();
      if (m === '@revoked') marker = 'revoked';
      else if (m === '@cert-authority') marker = 'cert-authority';
      else return; // unknown marker: OpenSSH skips the line
    }
    const [hosts, keyType, b64] = fields;
    if (!hosts || !keyType || !b64) return;
    const keyBlob = Buffer.from(b64, 'base64');
    try {
      if (keyTypeOf(keyBlob) !== keyType) return;
    } catch {
      return; // invalid key: skipped, as OpenSSH does
    }
    const entry: KnownHostsEntry = { line: i + 1, marker, keyType, keyBlob };
    if (hosts.startsWith('|1|')) {
      const [, , salt, hash] = hosts.split('|');
      if (!salt || !hash) return;
      entry.hashed = { salt: Buffer.from(salt, 'base64'), hash: Buffer.from(hash, 'base64') };
    } else {
      entry.patterns = hosts.split(',');
    }
    entries.push(entry);
  });
  return entries;
}

/** OpenSSH's match_pattern: `*` any run, `?` one character; hostnames compare case-insensitively. */
export function matchPattern(pattern: string, name: string): boolean {
  // Most lines name a host outright: compared as they are (case-insensitive, as the regexp
  // would), without building a regexp per line and host (100 hosts × 200 lines in one run).
  if (!pattern.includes('*') && !pattern.includes('?'))
    return pattern.length === name.length && pattern.toLowerCase() === name.toLowerCase();
  const re = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${re}$`, 'is').test(name);
}

/** OpenSSH's match_pattern_list: a matching negated pattern excludes, else any positive match. */
export function matchPatternList(patterns: readonly string[], name: string): boolean {
  let positive = false;
  for (const p of patterns) {
    if (p.startsWith('!')) {
      if (matchPattern(p.slice(1), name)) return false;
    } else if (matchPattern(p, name)) positive = true;
  }
  return positive;
}

export function entryMatchesHost(entry: KnownHostsEntry, name: string): boolean {
  if (entry.hashed) {
    const mac = createHmac('sha1', entry.hashed.salt).update(name).digest();
    return mac.length === entry.hashed.hash.length && timingSafeEqual(mac, entry.hashed.hash);
  }
  return matchPatternList(entry.patterns ?? [], name);
}

/** Decide on a host key from the text of a known_hosts file. */
export function decideHostKey(file: string, text: string, host: string, port: number, keyBlob: Buffer): HostKeyCheck {
  return decideFromEntries(file, parseKnownHosts(text), host, port, keyBlob);
}

function decideFromEntries(
  file: string,
  entries: readonly KnownHostsEntry[],
  host: string,
  port: number,
  keyBlob: Buffer,
): HostKeyCheck {
  const name = hostKeyName(host, port);
  const forHost = entries.filter((e) => e.marker !== 'cert-authority' && entryMatchesHost(e, name));
  const toKnown = (e: KnownHostsEntry): KnownKey => ({
    file,
    line: e.line,
    keyType: e.keyType,
    fingerprint: fingerprint(e.keyBlob),
  });
  const keys = forHost.filter((e) => e.marker === undefined);
  const known = keys.map(toKnown);
  const knownFingerprints = known.map((k) => k.fingerprint);
  const revoked = forHost.find((e) => e.marker === 'revoked' && e.keyBlob.equals(keyBlob));
  if (revoked) return { status: 'revoked', knownFingerprints, known: [toKnown(revoked)] };
  if (keys.some((e) => e.keyBlob.equals(keyBlob))) return { status: 'match', knownFingerprints, known };
  // Stricter than OpenSSH: a host with known keys only of other types counts as changed, so
  // an attacker cannot slip in by offering a different key type (see hostKeyAlgorithms).
  return { status: keys.length > 0 ? 'changed' : 'unknown', knownFingerprints, known };
}

/**
 * Read a known_hosts file: a missing file is empty; any other read error (permissions, a
 * directory) is thrown, so the caller fails closed.
 */
export async function readKnownHosts(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw err;
  }
}

/**
 * A known_hosts file's entries, parsed once per content: every host of a run asks twice (key
 * types before the handshake, then the check), and a 100-host run read and parsed the file
 * 200 times. The file is stat'ed on every ask and read again when it changed (another process,
 * or this one's accept-new), so a check never sees an older file than a read would. The parse
 * itself is shared while in flight: the hosts of a run ask at once, before any read is back.
 */
const parsed = new Map<string, { sig: string; entries: Promise<KnownHostsEntry[]> }>();

async function knownEntries(file: string): Promise<KnownHostsEntry[]> {
  let sig = 'absent';
  try {
    const st = await stat(file);
    sig = `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}:${st.ctimeMs}`;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const hit = parsed.get(file);
  if (hit && hit.sig === sig) return hit.entries;
  const entries = readKnownHosts(file).then(parseKnownHosts);
  const slot = { sig, entries };
  parsed.set(file, slot);
  // A failed read is not remembered: the next ask reads again (and fails closed again).
  entries.catch(() => parsed.get(file) === slot && parsed.delete(file));
  return entries;
}

export async function checkHostKey(file: string, host: string, port: number, keyBlob: Buffer): Promise<HostKeyCheck> {
  return decideFromEntries(file, await knownEntries(file), host, port, keyBlob);
}

/** Key types already known for a host, so the handshake can prefer them (like OpenSSH). */
export async function knownKeyTypes(file: string, host: string, port: number): Promise<string[]> {
  const name = hostKeyName(host, port);
  const entries = await knownEntries(file);
  return [...new Set(entries.filter((e) => e.marker === undefined && entryMatchesHost(e, name)).map((e) => e.keyType))];
}

const HOST_KEY_ALGORITHMS = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
] as const;
export type HostKeyAlgorithm = (typeof HOST_KEY_ALGORITHMS)[number];

/** ssh2's host key algorithm list with the algorithms of already-known key types first. */
export function hostKeyAlgorithms(knownTypes: readonly string[]): HostKeyAlgorithm[] {
  const preferred = (a: HostKeyAlgorithm) => knownTypes.includes(a.startsWith('rsa-sha2-') ? 'ssh-rsa' : a);
  return [...HOST_KEY_ALGORITHMS.filter(preferred), ...HOST_KEY_ALGORITHMS.filter((a) => !preferred(a))];
}

/** One known_hosts line: hashed (`|1|salt|hash`, like HashKnownHosts yes) or plain. */
export function formatKnownHostsLine(
  host: string,
  port: number,
  keyBlob: Buffer,
  hash: boolean,
  salt = randomBytes(20),
): string {
  const name = hostKeyName(host, port);
  const field = hash ? `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}` : name;
  return `${field} ${keyTypeOf(keyBlob)} ${keyBlob.toString('base64')}\n`;
}

const appendLocks = new Map<string, Promise<unknown>>();

/**
 * Record a new host key (accept-new). Appends in this process are serialised per file and the
 * file is re-checked first, so hosts connected in parallel do not write duplicate or conflicting
 * lines. Creates the directory (0700) and the file (0600) when missing.
 */
export async function appendHostKey(
  file: string,
  host: string,
  port: number,
  keyBlob: Buffer,
  hash = true,
): Promise<HostKeyCheck> {
  const run = async (): Promise<HostKeyCheck> => {
    const text = await readKnownHosts(file);
    const check = decideHostKey(file, text, host, port, keyBlob);
    if (check.status !== 'unknown') return check;
    await mkdir(dirname(file), { recursive: true, mode: 0o700 });
    const sep = text.length > 0 && !text.endsWith('\n') ? '\n' : '';
    await appendFile(file, sep + formatKnownHostsLine(host, port, keyBlob, hash), { mode: 0o600 });
    return { ...check, status: 'match' };
  };
  const prev = appendLocks.get(file) ?? Promise.resolve();
  const next = prev.then(run, run);
  appendLocks.set(file, next);
  try {
    return await next;
  } finally {
    if (appendLocks.get(file) === next) appendLocks.delete(file);
  }
}

export interface HostKeyPolicyOptions {
  /** Logical host name, for messages. */
  name: string;
  host: string;
  port: number;
  knownHosts: string;
  policy: HostKeyPolicy;
  /** Hash names of newly recorded hosts. Default: true. */
  hash?: boolean;
}

/**
 * ssh2's `hostVerifier(key, verify)` applying the policy. ssh2 only reports "Host denied", so
 * the reason is kept and read back with `failure()` when the handshake fails.
 */
export function createHostVerifier(o: HostKeyPolicyOptions): {
  hostVerifier: (key: Buffer, verify: (ok: boolean) => void) => void;
  failure: () => TransportError | undefined;
} {
  let failure: TransportError | undefined;
  const refuse = (message: string) => {
    failure = new TransportError(o.name, 'hostkey', message);
    return false;
  };
  const decide = async (key: Buffer): Promise<boolean> => {
    const where = hostKeyName(o.host, o.port);
    const offered = `${keyTypeOf(key)} ${fingerprint(key)}`;
    let check: HostKeyCheck;
    try {
      check = await checkHostKey(o.knownHosts, o.host, o.port, key);
    } catch (err) {
      return refuse(unreadableMessage(o.knownHosts, err));
    }
    if (check.status === 'match') return true;
    if (check.status === 'revoked') {
      const r = check.known[0];
      return refuse(
        `the host key of ${where} (${offered}) is marked @revoked in ${r.file}:${r.line}; refusing to connect.`,
      );
    }
    if (check.status === 'changed') return refuse(changedMessage(o, where, offered, check));
    if (o.policy === 'strict') {
      return refuse(
        `${where} is not in ${o.knownHosts} and host_key_policy is strict; refusing to connect. ` +
          `The host offered ${offered}. Compare it with \`ssh-keygen -lf /etc/ssh/ssh_host_${shortType(key)}_key.pub\` run on the host, ` +
          `then add the key to known_hosts, or use host_key_policy: accept-new.`,
      );
    }
    try {
      const after = await appendHostKey(o.knownHosts, o.host, o.port, key, o.hash ?? true);
      if (after.status === 'match') return true;
      return refuse(changedMessage(o, where, offered, after));
    } catch (err) {
      return refuse(
        `could not record the new host key of ${where} in ${o.knownHosts} (${errText(err)}); refusing to connect.`,
      );
    }
  };
  return {
    hostVerifier: (key, verify) => {
      decide(key).then(verify, (err) => verify(refuse(`host key check failed: ${errText(err)}`)));
    },
    failure: () => failure,
  };
}

function changedMessage(o: HostKeyPolicyOptions, where: string, offered: string, check: HostKeyCheck): string {
  const known = check.known.map((k) => `    ${k.keyType} ${k.fingerprint} (${k.file}:${k.line})`).join('\n');
  return (
    `REMOTE HOST IDENTIFICATION HAS CHANGED for ${where}: refusing to connect. Someone could be intercepting the connection, or the host was reinstalled.\n` +
    `  offered by the host: ${offered}\n  known:\n${known}\n` +
    `If the change is expected, remove the old key with: ${sh(['ssh-keygen', '-R', where, '-f', o.knownHosts])} and connect again.`
  );
}

/** ssh-ed25519 → ed25519, ecdsa-sha2-nistp256 → ecdsa, ssh-rsa → rsa (host key file names). */
function shortType(key: Buffer): string {
  return keyTypeOf(key).replace(/^ssh-/, '').replace(/-.*$/, '');
}

function unreadableMessage(file: string, err: unknown): string {
  return (
    `cannot read known_hosts file ${file} (${errText(err)}); refusing to connect without checking the host key. ` +
    `Make it a readable file (chmod 600 ${file}) or point known_hosts at another file.`
  );
}

function errText(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e?.code ? `${e.code}: ${e.message}` : String(e?.message ?? err);
}
