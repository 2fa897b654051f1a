/**
 * A load balancer's facts: what deploy plans against, verify checks and status shows, read as
 * one set of sections in one round trip (under the deploy lock for deploy).
 */
import type { Transport } from '../transport/transport.js';
import { knownPrograms } from './known-programs.js';
import { HOST_PATHS } from './paths.js';
import { raw, type HostPath } from './script.js';
import { gather, section, type Results, type Section } from './section.js';
import { drainSection, type DrainState } from './sections/drain.js';
import { filesSection, managedSection, type RemoteFile } from './sections/files.js';
import {
  holdsAddress,
  netSection,
  nginxStatusSection,
  notifySection,
  osSection,
  procsSection,
  programsSection,
  releaseCurrentSection,
  sysctlSection,
  type HostAddress,
  type KnownPrograms,
  type NotifiedState,
  type OsFacts,
  type ProcessFacts,
  type Programs,
} from './sections/host.js';

export interface HostFacts {
  os: OsFacts;
  programs: Programs;
  sysctl: Record<string, string>;
  links: string[];
  addresses: HostAddress[];
  files: Record<string, RemoteFile>;
  /** hactl's nginx files on the host (hactl-*.conf), rendered or not. */
  managed: string[];
  running: ProcessFacts;
  /** The notify script's last state per VRRP instance. */
  notified: Record<string, NotifiedState>;
  /** Body of the nginx status endpoint, when it answered. */
  nginxStatus?: string;
  /** The release hactl last applied here (deploy or rollback), when there is one. */
  release?: string;
  /** What `hactl drain` recorded here (absent in facts built by hand: in service). */
  drain?: DrainState;
}

export interface FactsRequest {
  /** Files whose bytes, mode and owner are compared with the rendered ones. */
  files: readonly string[];
  sysctl: readonly string[];
  /**
   * nginx's status endpoint, read with curl. Absent: not read (deploy plans without it; a curl
   * is about 10 ms of CPU on the host, beside ~17 ms for the rest of a no-op's read).
   */
  statusPort?: number;
  /** Where hactl's nginx site files are (the layout's include directory). Default: /etc/nginx/conf.d. */
  nginxConfDir?: string;
  /** How to run this host's nginx. Default: `nginx` on PATH. */
  nginx?: readonly (string | HostPath)[];
  /** What this machine saw of the host's programs (their versions are not asked again). */
  known?: KnownPrograms;
}

const NO_STATUS: Section<string | undefined> = section('nginx-status', raw(':'), () => undefined);

/** The sections of HostFacts, in the order parseFacts expects them. */
export function factsSections(req: FactsRequest) {
  return [
    osSection,
    programsSection(req.nginx, req.known),
    sysctlSection(req.sysctl),
    netSection,
    filesSection(req.files),
    managedSection(req.nginxConfDir ?? HOST_PATHS.nginxConfDir),
    procsSection,
    notifySection,
    req.statusPort === undefined ? NO_STATUS : nginxStatusSection(req.statusPort),
    releaseCurrentSection,
    drainSection,
  ] as const;
}

export type FactsSections = ReturnType<typeof factsSections>;

type FactsResults = Results<FactsSections>;

export function hostFacts([
  os,
  programs,
  sysctl,
  net,
  files,
  managed,
  running,
  notified,
  status,
  release,
  drain,
]: FactsResults): HostFacts {
  return {
    os,
    programs,
    sysctl,
    links: net.links,
    addresses: net.addresses,
    files,
    managed,
    running,
    notified,
    ...(status ? { nginxStatus: status } : {}),
    ...(release ? { release } : {}),
    drain,
  };
}

/** The request with what this machine remembers of the host behind `t`. */
export function withKnown(t: Transport, req: FactsRequest): FactsRequest {
  return { ...req, known: knownPrograms().known(t.cacheKey) };
}

/** Remembers the host's program identities and versions for the next read. */
export function rememberPrograms(t: Transport, facts: Pick<HostFacts, 'programs'>): void {
  knownPrograms().remember(t.cacheKey, facts.programs);
}

/**
 * Facts plus any extra sections in the same exec (verify's probes and `nginx -t`, status's
 * keepalived state): still one round trip per host.
 */
export async function readFacts<E extends readonly Section<unknown>[]>(
  t: Transport,
  req: FactsRequest,
  extra: E,
  opts: { step: string; timeoutMs?: number; signal?: AbortSignal },
): Promise<{ facts: HostFacts; extra: { [K in keyof E]: E[K] extends Section<infer T> ? T : never } }> {
  const base = factsSections(withKnown(t, req));
  const all = await gather(t, [...base, ...extra] as const, opts);
  const facts = hostFacts(all.slice(0, base.length) as unknown as FactsResults);
  rememberPrograms(t, facts);
  return {
    facts,
    extra: all.slice(base.length) as unknown as { [K in keyof E]: E[K] extends Section<infer T> ? T : never },
  };
}

export function holds(facts: Pick<HostFacts, 'addresses'>, ip: string): boolean {
  return holdsAddress({ links: [], addresses: facts.addresses }, ip);
}
