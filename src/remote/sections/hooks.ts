/**
 * The operator's hook commands as a node sees them: there, executable, and who may change
 * them (keepalived's notify script runs them as root, so a command others can write is a way
 * to root). One stat per configured command; nothing when none is configured.
 */
import { cmd, hostPath, raw, script } from '../script.js';
import { section, type Section } from '../section.js';

export interface HookCommand {
  path: string;
  exists: boolean;
  executable: boolean;
  /** Owner name (or uid) and permission bits, e.g. "root", "0755". */
  owner?: string;
  mode?: string;
}

/** "hook <1|0 exists> <1|0 executable> <owner> <mode> <path>" per command. */
export function hookCommandsSection(paths: readonly string[]): Section<HookCommand[]> {
  return section(
    'hook-commands',
    script(
      cmd`for hk_p in ${paths.map((p) => hostPath(p))}; do`,
      raw('  if [ -e "$hk_p" ]; then hk_x=0; [ -f "$hk_p" ] && [ -x "$hk_p" ] && hk_x=1;'),
      raw('    echo "hook 1 $hk_x $(stat -L -c \'%U %a\' "$hk_p" 2>/dev/null || echo \'? ?\') ${hk_p#"$R"}";'),
      raw('  else echo "hook 0 0 - - ${hk_p#"$R"}"; fi'),
      raw('done'),
    ),
    parseHookCommands,
  );
}

export function parseHookCommands(lines: string[]): HookCommand[] {
  return lines.flatMap((l) => {
    const m = /^hook ([01]) ([01]) (\S+) (\S+) (\/.*)$/.exec(l);
    if (!m) return [];
    const exists = m[1] === '1';
    return [
      {
        path: m[5],
        exists,
        executable: m[2] === '1',
        ...(exists ? { owner: m[3], mode: m[4].padStart(4, '0') } : {}),
      },
    ];
  });
}
