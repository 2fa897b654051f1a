/** The shape every lint rule has: one cluster in, its problems out. */
import type { ClusterDoc } from './schema.js';
import type { Locator, PathSeg, Problem } from './problems.js';

export interface LintOptions {
  /** Environment for pass_env lookups; missing variables are errors only when required. */
  env: NodeJS.ProcessEnv;
  requireSecrets: boolean;
}

export type Rule = (c: ClusterDoc, at: (...p: PathSeg[]) => PathSeg[], loc: Locator, o: LintOptions) => Problem[];
