/**
 * The keys offered, in OpenSSH's order, against a real ssh-agent (keys made with ssh-keygen,
 * loaded with ssh-add): agent keys that are IdentityFiles first, the agent's others unless
 * IdentitiesOnly, then files the agent does not hold.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BaseAgent, ParsedKey } from 'ssh2';
import { authMethods } from '../../../src/transport/auth.js';
import type { SshEndpoint } from '../../../src/transport/target.js';
import { TransportError } from '../../../src/transport/transport.js';
import { waitFor } from '../../../src/util/wait-for.js';

let dir: string;
let agent: ChildProcess;
let sock: string;
const key = (name: string) => join(dir, name);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hactl-auth-'));
  for (const k of ['in_agent', 'agent_only', 'file_only']) {
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', k, '-f', key(k)]);
  }
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'sesame', '-C', 'locked', '-f', key('locked')]);
  sock = join(dir, 'agent.sock');
  agent = spawn('ssh-agent', ['-D', '-a', sock], { stdio: 'ignore' });
  await waitFor(async () => existsSync(sock), { timeoutMs: 5000, intervalMs: 20, what: 'the ssh-agent socket' });
  const env = { ...process.env, SSH_AUTH_SOCK: sock };
  // Loaded in this order, so "the agent's order" and "IdentityFile order" differ.
  execFileSync('ssh-add', ['-q', key('agent_only'), key('in_agent')], { env, stdio: 'ignore' });
  const askpass = join(dir, 'askpass.sh');
  writeFileSync(askpass, '#!/bin/sh\necho sesame\n', { mode: 0o755 });
  execFileSync('ssh-add', ['-q', key('locked')], {
    env: { ...env, SSH_ASKPASS: askpass, SSH_ASKPASS_REQUIRE: 'force', DISPLAY: ':0' },
    stdio: 'ignore',
  });
});

afterAll(() => {
  agent?.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

function endpoint(files: (string | [string, boolean])[], over: Partial<SshEndpoint> = {}): SshEndpoint {
  return {
    name: 'lb1',
    host: '10.0.0.1',
    port: 22,
    user: 'root',
    identityFiles: files.map((f) =>
      typeof f === 'string' ? { path: key(f), required: false } : { path: key(f[0]), required: f[1] },
    ),
    identitiesOnly: false,
    agent: sock,
    knownHosts: '/dev/null',
    hostKeyPolicy: 'strict',
    connectTimeoutMs: 1000,
    ...over,
  };
}

/** What is offered, in order: agent keys by comment, files by name. */
async function offered(e: SshEndpoint): Promise<string[]> {
  const { methods } = await authMethods(e);
  const out: string[] = [];
  for (const m of methods) {
    if (m.type === 'agent') {
      const keys = await new Promise<ParsedKey[]>((resolve) =>
        (m.agent as BaseAgent<ParsedKey>).getIdentities((_e, k) => resolve((k ?? []) as ParsedKey[])),
      );
      out.push(...keys.map((k) => `agent:${k.comment}`));
    } else out.push(`file:${(m.key as ParsedKey).comment}`);
  }
  return out;
}

test('agent keys that are IdentityFiles (in file order), then the other agent keys, then files only on disk', async () => {
  expect(await offered(endpoint(['file_only', 'in_agent', 'locked']))).toEqual([
    'agent:in_agent',
    'agent:locked',
    'agent:agent_only',
    'file:file_only',
  ]);
});

test('IdentitiesOnly: no agent key that is not an IdentityFile', async () => {
  expect(await offered(endpoint(['file_only', 'in_agent'], { identitiesOnly: true }))).toEqual([
    'agent:in_agent',
    'file:file_only',
  ]);
});

test('no agent: every readable file, in order; a locked one is skipped, saying how to use it', async () => {
  const plan = await authMethods(endpoint(['locked', 'in_agent', 'missing'], { agent: undefined }));
  expect(plan.methods.map((m) => m.type)).toEqual(['publickey']);
  expect(plan.tried.join('\n')).toMatch(/locked skipped: it has a passphrase \(load it with ssh-add/);
  expect(plan.tried.join('\n')).toMatch(/missing skipped: cannot read it \(ENOENT\)/);
});

test('a public key as IdentityFile selects its agent key (agent-only setups)', async () => {
  const e = endpoint([], { identitiesOnly: true });
  e.identityFiles = [{ path: `${key('agent_only')}.pub`, required: false }];
  expect(await offered(e)).toEqual(['agent:agent_only']);
});

test('the inventory key must be usable: missing, or locked without an agent, is an auth error before connecting', async () => {
  const missing = await authMethods(endpoint([['nope', true]])).catch((e: unknown) => e);
  expect(missing).toBeInstanceOf(TransportError);
  expect(String(missing)).toMatch(/identity file .*nope: cannot read it \(ENOENT\); fix identity_file/);
  const locked = await authMethods(endpoint([['locked', true]], { agent: undefined })).catch((e: unknown) => e);
  expect(String(locked)).toMatch(/has a passphrase and no ssh-agent is available.*ssh-add/);
});

test('nothing to offer: says so, with what was tried', async () => {
  const err = await authMethods(endpoint(['missing'], { agent: undefined })).catch((e: unknown) => e);
  expect((err as TransportError).kind).toBe('auth');
  expect(String(err)).toMatch(/no key to offer root@10.0.0.1:22: no ssh-agent/);
});

test('a key file is parsed once per content: the same bytes give the same key; new bytes, the new key', async () => {
  const path = key('rotating');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'first', '-f', path]);
  const e = endpoint(['rotating'], { agent: undefined });
  const keyOf = async () => ((await authMethods(e)).methods[0] as { key: ParsedKey }).key;
  const [a, b] = await Promise.all([keyOf(), keyOf()]);
  expect(a.comment).toBe('first');
  expect(b).toBe(a);
  expect(await keyOf()).toBe(a);
  // Replaced in place (the operator rotates the key): the next connect offers the new one.
  rmSync(path);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'second', '-f', path]);
  const c = await keyOf();
  expect(c.comment).toBe('second');
  expect(c.getPublicSSH().equals(a.getPublicSSH())).toBe(false);
});
