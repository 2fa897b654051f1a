/**
 * The keys offered to a server, in OpenSSH's order (sshconnect2.c pubkey_prepare):
 *   1. agent keys that are also an IdentityFile, in IdentityFile order;
 *   2. the agent's other keys, unless IdentitiesOnly;
 *   3. IdentityFile keys the agent does not hold, read from disk.
 * A key with a passphrase is used through the agent (matched by its .pub) or skipped: hactl never
 * prompts. An agent with many keys can exhaust the server's MaxAuthTries before the right one,
 * as with ssh: IdentitiesOnly yes (or use_agent: false) is the fix there too.
 */
import { readFile } from 'node:fs/promises';
import ssh2, { type AgentAuthMethod, type ParsedKey, type PublicKeyAuthMethod } from 'ssh2';
import { TransportError } from '../errors.js';
import { fingerprint } from './known-hosts.js';
import { where, type IdentityFile, type SshEndpoint } from './target.js';

const { BaseAgent, OpenSSHAgent, utils } = ssh2;

export type AuthMethod = PublicKeyAuthMethod | AgentAuthMethod;

export interface AuthPlan {
  methods: AuthMethod[];
  /** What is offered (and what was skipped, and why), for the message when nothing is accepted. */
  tried: string[];
}

interface LoadedKey {
  file: IdentityFile;
  /** Public key blob (from the private key or its .pub), to match against the agent. */
  blob?: Buffer;
  /** Usable without the agent. */
  key?: ParsedKey;
  /** Why it cannot be used without the agent. */
  note?: string;
}

/** The agent, offering only the keys chosen here, in this order. */
class OrderedAgent extends BaseAgent<ParsedKey> {
  constructor(
    private readonly real: InstanceType<typeof OpenSSHAgent>,
    private readonly keys: ParsedKey[],
  ) {
    super();
  }
  getIdentities(cb: (err: Error | undefined, keys?: ParsedKey[]) => void): void {
    cb(undefined, this.keys);
  }
  sign(pub: ParsedKey, data: Buffer, options: object, cb?: (err?: Error | null, sig?: Buffer) => void): void {
    this.real.sign(pub, data, options, cb);
  }
}

export async function authMethods(t: SshEndpoint, agentSocket = t.agent): Promise<AuthPlan> {
  const loaded = await Promise.all(t.identityFiles.map((f) => loadKey(t, f, Boolean(agentSocket))));
  const agent = agentSocket ? await agentKeys(agentSocket) : { keys: [] as ParsedKey[] };
  const tried: string[] = agent.error ? [`ssh-agent at ${agentSocket}: ${agent.error}`] : [];
  const inAgent = (blob?: Buffer) => agent.keys.find((k) => blob && k.getPublicSSH().equals(blob));
  const offered: ParsedKey[] = [];
  for (const l of loaded) {
    const k = inAgent(l.blob);
    if (k && !offered.includes(k)) {
      offered.push(k);
      tried.push(`agent key ${describe(k)} (${l.file.path})`);
    }
  }
  if (!t.identitiesOnly)
    for (const k of agent.keys.filter((a) => !offered.includes(a))) {
      offered.push(k);
      tried.push(`agent key ${describe(k)}`);
    }
  const methods: AuthMethod[] = [];
  if (agentSocket && offered.length > 0)
    methods.push({ type: 'agent', username: t.user, agent: new OrderedAgent(new OpenSSHAgent(agentSocket), offered) });
  for (const l of loaded.filter((l) => !inAgent(l.blob))) {
    if (l.key) {
      methods.push({ type: 'publickey', username: t.user, key: l.key });
      tried.push(`identity file ${l.file.path}`);
    } else if (l.note) tried.push(`identity file ${l.file.path} skipped: ${l.note}`);
  }
  if (methods.length === 0) throw noKeys(t, agentSocket, tried);
  return { methods, tried };
}

const describe = (k: ParsedKey) => `${k.type} ${fingerprint(k.getPublicSSH())}${k.comment ? ` ${k.comment}` : ''}`;

function noKeys(t: SshEndpoint, agentSocket: string | undefined, tried: string[]): TransportError {
  const agent = agentSocket
    ? 'the ssh-agent holds none of them'
    : 'no ssh-agent (SSH_AUTH_SOCK unset or use_agent: false)';
  return new TransportError(
    t.name,
    'auth',
    `no key to offer ${where(t)}: ${agent}; set identity_file, or load your key with ssh-add.${tried.length ? ` (${tried.join('; ')})` : ''}`,
  );
}

async function agentKeys(socket: string): Promise<{ keys: ParsedKey[]; error?: string }> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve({ keys: [], error: 'did not answer within 5 s' }), 5000);
    new OpenSSHAgent(socket).getIdentities((err, keys) => {
      clearTimeout(timer);
      // OpenSSHAgent answers with parsed keys (the type also allows raw entries, which it never returns).
      resolve(err ? { keys: [], error: err.message } : { keys: (keys ?? []) as ParsedKey[] });
    });
  });
}

/** The file, or why it could not be read (an object, not an Error: errors cross realms under test runners). */
async function readOptional(path: string): Promise<{ data: Buffer } | { error: string }> {
  return readFile(path).then(
    (data) => ({ data }),
    (err: NodeJS.ErrnoException) => ({ error: err.code ?? err.message }),
  );
}

function parse(data: Buffer): ParsedKey | Error {
  const k = utils.parseKey(data);
  return Array.isArray(k) ? (k[0] as ParsedKey) : k;
}

/**
 * An identity file's key, parsed once per content: every host of a run offers the same few
 * keys, and a 50-host run parsed one key 50 times (about 1 ms each). The file is still read on
 * every connect, so an edited or replaced key is the one offered.
 */
const parsedKeys = new Map<string, { data: Buffer; key: ParsedKey | Error }>();

function parseIdentity(path: string, data: Buffer): ParsedKey | Error {
  const hit = parsedKeys.get(path);
  if (hit && hit.data.equals(data)) return hit.key;
  const key = parse(data);
  parsedKeys.set(path, { data, key });
  return key;
}

/** The blob of `<file>.pub`, which ssh uses to find a locked or absent key in the agent. */
async function pubBlob(path: string): Promise<Buffer | undefined> {
  const read = await readOptional(`${path}.pub`);
  const k = 'data' in read ? parse(read.data) : undefined;
  return k && !(k instanceof Error) ? k.getPublicSSH() : undefined;
}

/** One IdentityFile: its private key if usable, its public blob either way when there is one. */
async function loadKey(t: SshEndpoint, file: IdentityFile, haveAgent: boolean): Promise<LoadedKey> {
  const read = await readOptional(file.path);
  if ('error' in read) {
    const note = `cannot read it (${read.error})`;
    return agentOnly(t, file, haveAgent, await pubBlob(file.path), note, false);
  }
  const k = parseIdentity(file.path, read.data);
  if (!(k instanceof Error) && k.isPrivateKey()) return { file, key: k, blob: k.getPublicSSH() };
  // A public key as IdentityFile: agent-only setups (a hardware or password-manager agent).
  if (!(k instanceof Error)) return agentOnly(t, file, haveAgent, k.getPublicSSH(), 'a public key: agent only', false);
  const encrypted = /passphrase|encrypted/i.test(k.message);
  const note = encrypted ? `it has a passphrase (load it with ssh-add ${file.path})` : `cannot parse it (${k.message})`;
  return agentOnly(t, file, haveAgent, await pubBlob(file.path), note, encrypted);
}

/** A key usable only if the agent holds it; one the inventory names must at least be findable there. */
function agentOnly(
  t: SshEndpoint,
  file: IdentityFile,
  haveAgent: boolean,
  blob: Buffer | undefined,
  note: string,
  encrypted: boolean,
): LoadedKey {
  if (file.required && (!blob || !haveAgent)) throw requiredKeyError(t, file, note, encrypted, haveAgent);
  return { file, note, ...(blob ? { blob } : {}) };
}

function requiredKeyError(t: SshEndpoint, file: IdentityFile, note: string, encrypted: boolean, agent: boolean) {
  const message =
    encrypted && !agent
      ? `identity file ${file.path} has a passphrase and no ssh-agent is available. hactl never prompts: start an agent and run ssh-add ${file.path}, or use a key without a passphrase.`
      : `identity file ${file.path}: ${note}; fix identity_file in the inventory.`;
  return new TransportError(t.name, 'auth', message);
}
