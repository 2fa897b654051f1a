/**
 * Recorded fixtures of the remote sections, in the spirit of pyinfra's fact fixtures: each
 * test/fixtures/remote/<section>/<case>.json holds the section's arguments, the script text,
 * the output a real host printed for it, and what the parser made of that output. They are
 * recorded on lab hosts by test/e2e/remote-fixtures.test.ts (RECORD_FIXTURES=1).
 */
import { procEventsSection } from '../../src/remote/sections/proc-events.js';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Section } from '../../src/remote/section.js';
import { advertsSection, addrs4Section, confVridsSection, neighSection } from '../../src/remote/sections/discovery.js';
import { filesSection, managedSection } from '../../src/remote/sections/files.js';
import { healthWaitSection, type HealthWaitRequest } from '../../src/remote/sections/health-wait.js';
import {
  netSection,
  nginxStatusSection,
  nginxTestSection,
  notifySection,
  osSection,
  procsSection,
  programsSection,
  type KnownPrograms,
  sysctlSection,
} from '../../src/remote/sections/host.js';
import { httpProbesSection, type HttpProbe, type HttpProbesOptions } from '../../src/remote/sections/http-probes.js';
import { leftoversSection, undoFaultsSection } from '../../src/remote/sections/faults.js';
import {
  firewallSection,
  keepalivedDataSection,
  keepalivedStatsSection,
} from '../../src/remote/sections/keepalived.js';
import { watchSection } from '../../src/remote/sections/watch.js';
import { hookCommandsSection } from '../../src/remote/sections/hooks.js';
import { releasesSection } from '../../src/remote/sections/releases.js';
import { releaseCurrentSection } from '../../src/remote/sections/host.js';
import { connectionsSection, drainSection, type ConnTarget } from '../../src/remote/sections/drain.js';
import { ROOT } from './inventory.js';

export const FIXTURE_DIR = join(ROOT, 'test', 'fixtures', 'remote');

// Arguments are whatever each section's constructor takes, as JSON.
/* eslint-disable @typescript-eslint/no-explicit-any */
export const SECTIONS: Record<string, (args: any) => Section<unknown>> = {
  os: () => osSection,
  programs: (a?: { nginx?: string[]; known?: KnownPrograms }) => programsSection(a?.nginx, a?.known),
  sysctl: (a: { keys: string[] }) => sysctlSection(a.keys),
  net: () => netSection,
  files: (a: { paths: string[] }) => filesSection(a.paths),
  managed: (a: { dir: string }) => managedSection(a.dir),
  procs: () => procsSection,
  'vrrp-notify': () => notifySection,
  'nginx-status': (a: { port: number }) => nginxStatusSection(a.port),
  'nginx-test': (a?: { nginx?: string[] }) => nginxTestSection(a?.nginx),
  'keepalived-data': () => keepalivedDataSection,
  'keepalived-stats': () => keepalivedStatsSection,
  firewall: () => firewallSection,
  'http-probes': (a: { probes: HttpProbe[] } & HttpProbesOptions) =>
    httpProbesSection(a.probes, a.tokenFile ? { tokenFile: a.tokenFile } : {}),
  'hactl-faults': () => leftoversSection(),
  'hactl-undo': () => undoFaultsSection,
  'health-wait': (a: HealthWaitRequest) => healthWaitSection(a),
  addrs4: () => addrs4Section,
  neigh: () => neighSection,
  'conf-vrids': () => confVridsSection,
  adverts: (a: { seconds: number }) => advertsSection(a.seconds),
  'vip-watch': (a: { interval: number; ticks: number }) => watchSection(a.interval, a.ticks),
  'release-current': () => releaseCurrentSection,
  releases: () => releasesSection,
  'hook-commands': (a: { paths: string[] }) => hookCommandsSection(a.paths),
  drain: () => drainSection,
  'backend-connections': (a: { targets: ConnTarget[] }) => connectionsSection(a.targets),
  'proc-events': () => procEventsSection,
};
/* eslint-enable @typescript-eslint/no-explicit-any */

export interface Fixture {
  section: string;
  case: string;
  args: unknown;
  script: string;
  output: string;
  parsed: unknown;
}

/** Maps and Sets as plain JSON, so parsed values compare with what a fixture file holds. */
export function plain(v: unknown): unknown {
  if (v instanceof Map) return Object.fromEntries([...v].map(([k, x]) => [k, plain(x)]));
  if (v instanceof Set) return [...v].map(plain).sort();
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}

export function loadFixtures(): Fixture[] {
  let dirs: string[] = [];
  try {
    dirs = readdirSync(FIXTURE_DIR);
  } catch {
    return [];
  }
  return dirs.flatMap((d) =>
    readdirSync(join(FIXTURE_DIR, d))
      .filter((f) => f.endsWith('.json'))
      .map((f) => JSON.parse(readFileSync(join(FIXTURE_DIR, d, f), 'utf8')) as Fixture),
  );
}
