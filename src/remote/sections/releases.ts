/**
 * The releases recorded on a load balancer, read by `hactl releases` and `hactl rollback`:
 * every release directory's manifest (shell builtins only), the current release and the last
 * lines of the history of deploys and rollbacks. The copies of the files are not read here
 * (they hold the VRRP password): rollback reads the one release it applies, under the lock.
 */
import { parseManifest, type Manifest } from '../../release/manifest.js';
import { HOST_PATHS } from '../paths.js';
import { cmd, hostPath, raw, script } from '../script.js';
import { section, type Section } from '../section.js';

export interface HistoryEntry {
  /** Unix seconds. */
  at: number;
  action: string;
  id: string;
  who: string;
}

export interface HostReleases {
  releases: Manifest[];
  /** Release directories without a readable manifest (a damaged or foreign directory). */
  broken: string[];
  current?: string;
  history: HistoryEntry[];
}

export const releasesSection: Section<HostReleases> = section(
  'releases',
  script(
    cmd`for rl_d in ${hostPath(HOST_PATHS.releasesDir)}/[0-9]*; do`,
    raw('  [ -d "$rl_d" ] || continue'),
    raw(
      '  if [ -f "$rl_d/manifest" ]; then echo "@release ${rl_d##*/}"; while IFS= read -r rl_l; do echo "$rl_l"; done < "$rl_d/manifest";',
    ),
    raw('  else echo "@broken ${rl_d##*/}"; fi'),
    raw('done'),
    cmd`rl_c=; if [ -r ${hostPath(HOST_PATHS.releaseCurrent)} ]; then read -r rl_c < ${hostPath(HOST_PATHS.releaseCurrent)}; fi; [ -z "$rl_c" ] || echo "@current $rl_c"`,
    cmd`if [ -r ${hostPath(HOST_PATHS.releaseHistory)} ]; then tail -n 20 ${hostPath(HOST_PATHS.releaseHistory)} | while IFS= read -r rl_l; do echo "@history $rl_l"; done; fi`,
  ),
  parseReleases,
);

export function parseReleases(lines: string[]): HostReleases {
  const out: HostReleases = { releases: [], broken: [], history: [] };
  let block: string[] | undefined;
  let name = '';
  const close = () => {
    if (!block) return;
    try {
      out.releases.push(parseManifest(block));
    } catch {
      out.broken.push(name);
    }
    block = undefined;
  };
  for (const line of lines) {
    if (line.startsWith('@')) close();
    if (line.startsWith('@release ')) [name, block] = [line.slice(9), []];
    else if (line.startsWith('@broken ')) out.broken.push(line.slice(8));
    else if (line.startsWith('@current ')) out.current = line.slice(9).trim();
    else if (line.startsWith('@history ')) {
      const [at, action, id, ...who] = line.slice(9).split(' ');
      if (/^\d+$/.test(at) && id) out.history.push({ at: Number(at), action, id, who: who.join(' ') });
    } else block?.push(line);
  }
  close();
  out.releases.sort((a, b) => a.id.localeCompare(b.id));
  return out;
}
