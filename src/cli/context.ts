/**
 * What a command needs from the world outside its flags: how to reach hosts, whom to ask,
 * whether there is a terminal, the clock, the environment and the interrupt signals. Real
 * runs get the defaults below; the cli test tier replaces any of them, so every command runs
 * in-process against fake hosts.
 */
import { hostname, userInfo } from 'node:os';
import type { Discoverer } from '../init/discover.js';
import type { LbConnector } from '../transport/transport.js';
import { httpGet, type HttpClient } from '../util/http.js';
import { inquirerPrompter, type Prompter } from './prompter.js';

export interface CommandContext {
  /** A connector for this run (one per command: it pools jump hosts). */
  connect(): LbConnector;
  /** HTTP from this machine (verify's and deploy's site checks, failover-test's probe). */
  http: HttpClient;
  /** failover-test's keep-alive probe; absent: a real keep-alive Agent (tests give a stand-in). */
  keepAliveHttp?: HttpClient;
  /** init's discovery of the load balancers. */
  discover(): Discoverer;
  /** Asks the operator; only used when `isTTY` says there is a terminal. */
  prompter(): Prompter;
  isTTY: { stdin: boolean; stdout: boolean };
  now(): Date;
  env: NodeJS.ProcessEnv;
  /** Who runs hactl, for lock notes ("alice@laptop"). */
  who(): string;
  /** Subscribes to Ctrl-C and SIGTERM; returns the unsubscribe. */
  onInterrupt(handler: (signal: string) => void): () => void;
}

/** Loads a module on first use, so a command pays only for what it runs (and tests replace it unloaded). */
function lazy<T>(load: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () => (p ??= load());
}

function defaults(): CommandContext {
  const ssh = lazy(() => import('../run/connector.js'));
  const sshCache = lazy(() => import('../transport/ssh-g-cache.js'));
  const init = lazy(() => import('../init/discover.js'));
  return {
    connect: () => {
      // What ~/.ssh/config could not honour is the operator's to know: stderr, as all human text.
      // ssh -G answers are kept between runs, in the operator's cache directory.
      const connector = lazy(async () => {
        const [{ sshConnector }, { sshGCache }] = await Promise.all([ssh(), sshCache()]);
        return sshConnector({ warn: (m) => process.stderr.write(`hactl: ${m}\n`), cache: sshGCache() });
      });
      const connect: LbConnector = async (lb) => (await connector())(lb);
      connect.warm = async (lbs) => (await connector()).warm?.(lbs);
      return connect;
    },
    http: httpGet,
    discover: () => {
      const d = lazy(async () => (await init()).discoverer());
      return async (lbs, sshDoc) => (await d())(lbs, sshDoc);
    },
    prompter: () => inquirerPrompter(),
    isTTY: { stdin: Boolean(process.stdin.isTTY), stdout: Boolean(process.stdout.isTTY) },
    now: () => new Date(),
    env: process.env,
    who: () => `${userInfo().username}@${hostname()}`,
    onInterrupt: (handler) => {
      process.on('SIGINT', handler);
      process.on('SIGTERM', handler);
      return () => {
        process.off('SIGINT', handler);
        process.off('SIGTERM', handler);
      };
    },
  };
}

let override: Partial<CommandContext> | undefined;

/** Tests: every command run from now on gets these instead of the defaults (undefined: back to real). */
export function setCommandContext(ctx: Partial<CommandContext> | undefined): void {
  override = ctx;
}

export async function commandContext(): Promise<CommandContext> {
  return { ...defaults(), ...override };
}
