/**
 * The Debian mirror this machine's apt uses, read from its sources (deb822 `.sources` files
 * and one-line `sources.list`), so images come from the same registry as the machine's own
 * packages. The parsers are pure; `machineMirror()` reads the files.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Mirror {
  /** Serves <suite> and <suite>-updates, e.g. http://deb.debian.org/debian */
  archive: string;
  /** Serves <suite>-security, e.g. http://deb.debian.org/debian-security */
  security?: string;
}

interface SourceEntry {
  types: string[];
  uris: string[];
  suites: string[];
}

export function parseDeb822(text: string): SourceEntry[] {
  return text
    .split(/\n\s*\n/)
    .map((stanza) => {
      const field = (name: string) => {
        const m = new RegExp(`^${name}:[ \\t]*(.*)$`, 'mi').exec(stanza);
        return m ? m[1].trim().split(/\s+/).filter(Boolean) : [];
      };
      const enabled = field('Enabled')[0]?.toLowerCase() !== 'no';
      return enabled ? { types: field('Types'), uris: field('URIs'), suites: field('Suites') } : undefined;
    })
    .filter((e): e is SourceEntry => e !== undefined && e.uris.length > 0);
}

export function parseOneLine(text: string): SourceEntry[] {
  return text
    .split('\n')
    .map((l) => l.replace(/#.*/, '').trim())
    .filter((l) => /^deb\s/.test(l))
    .map((l) => {
      const words = l.replace(/\[[^\]]*\]/, '').split(/\s+/);
      return { types: ['deb'], uris: [words[1]], suites: [words[2]] };
    });
}

const trim = (uri: string) => uri.replace(/\/+$/, '');

/** The archive and security URIs among apt's entries: those of a `-security` suite go to security. */
export function pickMirror(entries: SourceEntry[]): Mirror | undefined {
  const debs = entries.filter((e) => e.types.includes('deb') && e.uris.some((u) => /^https?:\/\//.test(u)));
  const security = debs.find((e) => e.suites.some((s) => s.endsWith('-security')));
  const archive = debs.find((e) => e.suites.some((s) => !s.endsWith('-security') && !s.includes('/')));
  if (!archive) return undefined;
  return { archive: trim(archive.uris[0]), ...(security ? { security: trim(security.uris[0]) } : {}) };
}

function readAll(dir: string, ext: string): string[] {
  try {
    return readdirSync(dir)
      .filter((f) => f.endsWith(ext))
      .sort()
      .map((f) => readFileSync(join(dir, f), 'utf8'));
  } catch {
    return [];
  }
}

/** HACTL_LAB_MIRROR overrides (one archive URI); otherwise what this machine's apt uses. */
export function machineMirror(etcApt = '/etc/apt'): Mirror {
  const override = process.env.HACTL_LAB_MIRROR;
  if (override) return { archive: trim(override) };
  const oneLine = [readAll(etcApt, 'sources.list'), readAll(join(etcApt, 'sources.list.d'), '.list')].flat();
  const entries = [
    ...readAll(join(etcApt, 'sources.list.d'), '.sources').flatMap(parseDeb822),
    ...oneLine.flatMap(parseOneLine),
  ];
  const mirror = pickMirror(entries);
  if (!mirror)
    throw new Error(
      `no Debian mirror found in ${etcApt}/sources.list or sources.list.d: set HACTL_LAB_MIRROR to one (e.g. the URI of your Debian archive)`,
    );
  return mirror;
}
