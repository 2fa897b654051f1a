/**
 * Per-host progress: a live task list (listr2) on a terminal, plain timestamped lines
 * otherwise (CI, pipes, --json goes to stderr-free stdout). Fed by core events; never called
 * from inside the transport.
 */
import type { ListrTask } from 'listr2';
import type { DeployEvent } from '../run/deploy.js';

export interface Progress {
  onEvent(e: DeployEvent): void;
  finish(): Promise<void>;
}

const LABEL: Record<DeployEvent['step'], string> = {
  connect: 'connecting',
  facts: 'reading facts',
  plan: 'planned',
  wait: 'waiting',
  apply: 'applying',
  health: 'waiting until healthy',
  done: 'done',
  failed: 'failed',
  skipped: 'skipped',
};

export function plainProgress(write: (line: string) => void, verbose = false): Progress {
  return {
    onEvent(e) {
      if (!verbose && (e.step === 'connect' || e.step === 'facts')) return;
      write(`[${e.cluster}/${e.host}] ${LABEL[e.step]}${e.message ? `: ${e.message.split('\n')[0]}` : ''}`);
    },
    async finish() {},
  };
}

/** listr2 is imported only here, when a terminal will show it (it is not needed for plain output). */
export async function liveProgress(hosts: { host: string; cluster: string }[]): Promise<Progress> {
  const { Listr } = await import('listr2');
  const waiters = new Map<string, { update: (e: DeployEvent) => void; end: () => void }>();
  const pending = new Map<string, DeployEvent[]>();
  const tasks: ListrTask[] = hosts.map(({ host, cluster }) => ({
    title: `${cluster}/${host}`,
    task: (_ctx, task) =>
      new Promise<void>((resolve, reject) => {
        const update = (e: DeployEvent) => {
          task.title = `${cluster}/${host}: ${LABEL[e.step]}`;
          if (e.message) task.output = e.message.split('\n')[0];
          if (e.step === 'done' || e.step === 'plan') {
            task.title = `${cluster}/${host}: ${e.message ?? LABEL[e.step]}`;
          }
          if (e.step === 'failed') reject(new Error(`${host}: ${e.message?.split('\n')[0] ?? 'failed'}`));
          if (e.step === 'skipped') task.skip(`${host}: skipped (rollout stopped)`);
        };
        waiters.set(host, { update, end: resolve });
        for (const e of pending.get(host) ?? []) update(e);
      }),
  }));
  const list = new Listr(tasks, {
    concurrent: true,
    exitOnError: false,
    rendererOptions: { collapseSubtasks: false, showErrorMessage: false },
  });
  const run = list.run().catch(() => undefined);
  return {
    onEvent(e) {
      const w = waiters.get(e.host);
      if (w) w.update(e);
      else pending.set(e.host, [...(pending.get(e.host) ?? []), e]);
    },
    async finish() {
      for (const w of waiters.values()) w.end();
      await run;
    },
  };
}
