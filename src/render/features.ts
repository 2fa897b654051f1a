/**
 * What the keepalived and nginx on a host understand, by version, so the templates write only
 * what that version accepts. Each gate was checked against the real binaries of the releases
 * the lab builds (keepalived 2.1.5, 2.2.7, 2.3.3; nginx 1.18, 1.22, 1.26). A version that is not
 * known yet (the program is about to be installed) gets the oldest supported behaviour; deploy
 * renders again with the installed versions before it writes anything.
 */
import type { Programs } from '../remote/sections/host.js';

export interface Versions {
  keepalived?: string;
  nginx?: string;
}

export interface Features {
  /**
   * keepalived ≥ 2.2: `reload_check_config` makes a reload check the new configuration in a
   * child first and keep running the old one when it fails (2.1.5 does not know the keyword).
   */
  keepalivedReloadCheck: boolean;
  /** keepalived ≥ 2.2.3: the `interface_up_down_delays` block (2.1.5 refuses the whole file). */
  keepalivedUpDownDelays: boolean;
  /** keepalived ≥ 2.1.0: `max_auto_priority` (older versions log an unknown keyword and ignore it). */
  keepalivedMaxAutoPriority: boolean;
  /** keepalived ≥ 2.0.14: `vrrp_startup_delay`. */
  keepalivedStartupDelay: boolean;
  /**
   * keepalived ≥ 2.1: `track_file` with `weight` and `init_file` (checked with `keepalived -t` on
   * 2.1.5, 2.2.7 and 2.3.3), which `hactl drain` writes. An unknown version is about to be
   * installed and gets the oldest supported (2.1.5), which has it.
   */
  keepalivedTrackFile: boolean;
  /** nginx ≥ 1.25.1: `http2 on;` in the server block; before, `listen … http2`. */
  nginxHttp2Directive: boolean;
}

/** The oldest keepalived hactl supports (Debian 11's); an unknown version is treated as it. */
export const OLDEST_KEEPALIVED = '2.1.5';

/** a ≥ b for dotted versions ("2.2.7" ≥ "2.2"); false when a is unknown. */
export function atLeast(a: string | undefined, b: string): boolean {
  if (!a) return false;
  const x = a.split('.').map(Number);
  const y = b.split('.').map(Number);
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? 0) - (y[i] ?? 0);
    if (d !== 0) return d > 0;
  }
  return true;
}

export function features(v: Versions): Features {
  return {
    keepalivedReloadCheck: atLeast(v.keepalived, '2.2.0'),
    keepalivedUpDownDelays: atLeast(v.keepalived, '2.2.3'),
    // Every supported release has these two, so an unknown version gets them too.
    keepalivedMaxAutoPriority: atLeast(v.keepalived ?? OLDEST_KEEPALIVED, '2.1.0'),
    keepalivedStartupDelay: atLeast(v.keepalived ?? OLDEST_KEEPALIVED, '2.0.14'),
    nginxHttp2Directive: atLeast(v.nginx, '1.25.1'),
    keepalivedTrackFile: atLeast(v.keepalived ?? OLDEST_KEEPALIVED, '2.1.0'),
  };
}

export function versionsOf(programs: Programs): Versions {
  return {
    ...(programs.keepalived?.version ? { keepalived: programs.keepalived.version } : {}),
    ...(programs.nginx?.version ? { nginx: programs.nginx.version } : {}),
  };
}
