/**
 * The operator's probe key: what the probe token is derived from for a cluster without a VRRP
 * password (render/probe-token.ts). A random key in the operator's config directory
 * ($HACTL_CONFIG_DIR, else $XDG_CONFIG_HOME/hactl, else ~/.config/hactl), made on first need
 * (mode 0600) by the commands that render configuration (deploy, render), like ssh's
 * known_hosts; the others only read it. Operators who deploy one such cluster from several
 * machines copy the file (or set a VRRP password); commands that only read take the token from
 * the hosts and never need it.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Inventory } from '../inventory/model.js';
import { Secret } from '../inventory/secret.js';

export function probeKeyFile(env: NodeJS.ProcessEnv): string | undefined {
  if (env.HACTL_CONFIG_DIR) return join(env.HACTL_CONFIG_DIR, 'probe-key');
  if (env.XDG_CONFIG_HOME) return join(env.XDG_CONFIG_HOME, 'hactl', 'probe-key');
  if (env.HOME) return join(env.HOME, '.config', 'hactl', 'probe-key');
  return undefined;
}

/** Reads the key, making it first when missing (with `create`); undefined when there is none. */
function loadKey(file: string, create: boolean): Secret | undefined {
  try {
    const text = readFileSync(file, 'utf8').trim();
    if (/^[0-9a-f]{64}$/.test(text)) return new Secret(text);
  } catch {
    // missing: made below
  }
  if (!create) return undefined;
  try {
    mkdirSync(join(file, '..'), { recursive: true, mode: 0o700 });
    const key = randomBytes(32).toString('hex');
    // wx: never replace a key another hactl wrote meanwhile.
    writeFileSync(file, `${key}\n`, { mode: 0o600, flag: 'wx' });
    return new Secret(key);
  } catch {
    try {
      const text = readFileSync(file, 'utf8').trim();
      return /^[0-9a-f]{64}$/.test(text) ? new Secret(text) : undefined;
    } catch {
      return undefined;
    }
  }
}

/** Gives every cluster without a VRRP password the operator's probe key. */
export function attachProbeKey(inv: Inventory, env: NodeJS.ProcessEnv, o: { create: boolean }): void {
  const bare = inv.clusters.filter((c) => !c.vips.some((v) => v.auth && v.auth.pass.reveal() !== ''));
  if (bare.length === 0) return;
  const file = probeKeyFile(env);
  const key = file ? loadKey(file, o.create) : undefined;
  if (key) for (const c of bare) c.probeKey = key;
}
