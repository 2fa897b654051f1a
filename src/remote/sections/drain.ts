/**
 * What `hactl drain` recorded on a load balancer: the node's drain value (the file keepalived's
 * track_file reads) and the backends drained in nginx; and, while a backend drains, the
 * established connections this host still has to it.
 */
import type { NginxLayout } from '../../inventory/model.js';
import { HOST_PATHS } from '../paths.js';
import { cmd, hostPath, raw, script } from '../script.js';
import { section } from '../section.js';

export interface DrainedBackend {
  name: string;
  /** address:port as it was when drained. */
  target: string;
}

export interface DrainState {
  /** The drain file's value: 0 (or absent) in service, negative drained. NaN: not a number. */
  node: number;
  /** The file's text when it is not a number, for the error that names it. */
  nodeText?: string;
  backends: DrainedBackend[];
}

export const IN_SERVICE: DrainState = { node: 0, backends: [] };

export function isNodeDrained(d: DrainState | undefined): boolean {
  return d !== undefined && d.node !== 0;
}

export const drainSection = section(
  'drain',
  script(
    cmd`if [ -r ${hostPath(HOST_PATHS.drainFile)} ]; then printf 'node %s\\n' "$(head -c 64 ${hostPath(HOST_PATHS.drainFile)} | tr -d ' \\t\\r\\n')"; fi`,
    cmd`if [ -r ${hostPath(HOST_PATHS.drainedBackends)} ]; then sed -n 's/^\\([^ ]*\\) \\([^ ]*\\)$/backend \\1 \\2/p' ${hostPath(HOST_PATHS.drainedBackends)}; fi`,
  ),
  (lines): DrainState => {
    const out: DrainState = { node: 0, backends: [] };
    for (const line of lines) {
      const [kind, a, b] = line.split(' ');
      if (kind === 'node') {
        // keepalived reads an empty file as 0.
        const n = a === undefined || a === '' ? 0 : Number(a);
        out.node = Number.isInteger(n) ? n : NaN;
        if (!Number.isInteger(n)) out.nodeText = a;
      } else if (kind === 'backend' && a && b) out.backends.push({ name: a, target: b });
    }
    return out;
  },
);

export interface ConnTarget {
  name: string;
  address: string;
  port: number;
}

/**
 * Established TCP connections from this host to each target (nginx's upstream connections,
 * keep-alive ones included), counted with ss; -1 when ss is missing.
 */
export function connectionsSection(targets: readonly ConnTarget[]) {
  return section(
    'backend-connections',
    script(
      raw('if command -v ss >/dev/null 2>&1; then bc_ss=1; else bc_ss=0; fi'),
      ...targets.map(
        (t) =>
          cmd`if [ $bc_ss = 1 ]; then printf 'conns %s %s\\n' ${t.name} "$(ss -Htn state established dst ${t.address.includes(':') ? `[${t.address}]` : t.address} dport = ${`:${t.port}`} 2>/dev/null | wc -l)"; else printf 'conns %s -1\\n' ${t.name}; fi`,
      ),
    ),
    (lines) => {
      const out = new Map<string, number>();
      for (const line of lines) {
        const [kind, name, n] = line.split(' ');
        if (kind === 'conns' && name) out.set(name, Number(n));
      }
      return out;
    },
  );
}

export interface NginxWorkers {
  /** The master's pid, from its pid file; undefined when the file is missing or unreadable. */
  master?: number;
  /** Its worker processes (every nginx worker on the host when the master is not known). */
  workers: number[];
}

/**
 * nginx's worker processes on this host, the master's children. A reload leaves the workers
 * that were running on the old configuration until their requests end, and until the master
 * has read the new one they still accept connections: a backend is drained only once they are
 * gone. Found by their process title in /proc (`nginx: worker process`, then `... is shutting
 * down`), which a source build sets as the package does; the master from its pid file (a
 * package's: the `pid` directive of /etc/nginx/nginx.conf, by default /run/nginx.pid).
 */
export function nginxWorkersSection(layout: NginxLayout) {
  const pidFile =
    layout.kind === 'prefix'
      ? cmd`nw_pf=${hostPath(layout.pidFile)}`
      : script(
          cmd`nw_pf=$(sed -n 's/^[[:space:]]*pid[[:space:]][[:space:]]*\\(\\/[^;[:space:]]*\\).*/\\1/p' ${hostPath('/etc/nginx/nginx.conf')} 2>/dev/null | head -n 1)`,
          raw('nw_pf="$R${nw_pf:-/run/nginx.pid}"'),
        );
  return section(
    'nginx-workers',
    script(
      pidFile,
      raw(`nw_m=$(cat "$nw_pf" 2>/dev/null | tr -dc 0-9); echo "master \${nw_m:-none}"`),
      raw(`for nw_f in $(grep -las '^nginx: worker process' "$R"/proc/[0-9]*/cmdline); do`),
      raw('  nw_p=${nw_f%/cmdline}; nw_p=${nw_p##*/}'),
      raw(`  nw_pp=$(sed -n 's/^PPid:[[:space:]]*//p' "$R"/proc/$nw_p/status 2>/dev/null)`),
      raw('  if [ -z "$nw_m" ] || [ "$nw_pp" = "$nw_m" ]; then echo "worker $nw_p"; fi'),
      raw('done'),
    ),
    (lines): NginxWorkers => {
      const out: NginxWorkers = { workers: [] };
      for (const line of lines) {
        const [kind, v] = line.split(' ');
        if (kind === 'master' && v && v !== 'none') out.master = Number(v);
        else if (kind === 'worker' && v) out.workers.push(Number(v));
      }
      return out;
    },
  );
}
