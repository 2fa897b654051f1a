/**
 * The current bytes, mode and owner of the files hactl manages, in one tar stream (tar's
 * headers carry mode, user and group, so no stat), and the list of hactl's own nginx files.
 * Without tar or base64 on the host, one stat and one base64 per file instead.
 */
import { createHash } from 'node:crypto';
import { cmd, hostPath, raw, script } from '../script.js';
import { section, type Section } from '../section.js';

export interface RemoteFile {
  exists: boolean;
  mode?: string;
  owner?: string;
  group?: string;
  sha256?: string;
  content?: string;
}

export interface TarEntry {
  bytes: Buffer;
  /** Permission bits, four octal digits ("0644"). */
  mode: string;
  owner: string;
  group: string;
}

function tarHeaderName(h: Buffer, str: (b: Buffer) => string): string {
  const prefix = str(h.subarray(345, 500));
  const ustar = str(h.subarray(257, 263)).startsWith('ustar') && h[263] === 48;
  return prefix && ustar ? `${prefix}/${str(h.subarray(0, 100))}` : str(h.subarray(0, 100));
}

/** The regular files of a tar stream (ustar, GNU long names, pax path records), by absolute path. */
export function untar(data: Buffer): Map<string, TarEntry> {
  const out = new Map<string, TarEntry>();
  const str = (b: Buffer) => b.toString('utf8').replace(/\0.*$/s, '');
  const octal = (b: Buffer) => parseInt(str(b).trim() || '0', 8);
  let longName: string | undefined;
  for (let off = 0; off + 512 <= data.length;) {
    const h = data.subarray(off, off + 512);
    if (h.every((b) => b === 0)) break;
    const size = octal(h.subarray(124, 136));
    const type = String.fromCharCode(h[156] || 48);
    const body = data.subarray(off + 512, off + 512 + size);
    off += 512 + Math.ceil(size / 512) * 512;
    if (type === 'L') {
      longName = str(body);
      continue;
    }
    if (type === 'x') {
      longName = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(body.toString('utf8'))?.[1] ?? longName;
      continue;
    }
    const name = longName ?? tarHeaderName(h, str);
    longName = undefined;
    if (type !== '0' && type !== '\0') continue;
    out.set(name.startsWith('/') ? name : `/${name}`, {
      bytes: Buffer.from(body),
      mode: (octal(h.subarray(100, 108)) & 0o7777).toString(8).padStart(4, '0'),
      // User and group names, or the numeric ids when the host has no name for them.
      owner: str(h.subarray(265, 297)) || String(octal(h.subarray(108, 116))),
      group: str(h.subarray(297, 329)) || String(octal(h.subarray(116, 124))),
    });
  }
  return out;
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/**
 * "+ path" / "- path" per file, then "tar <base64>" of the existing ones (names relative to
 * the root, so the same stream works under a test root), or "stat mode owner group path" and
 * "data base64 path" lines where tar or base64 is missing.
 */
export function filesSection(paths: readonly string[]): Section<Record<string, RemoteFile>> {
  const body = script(
    cmd`set --; for fs_f in ${paths}; do if [ -f "$R$fs_f" ]; then set -- "$@" "\${fs_f#/}"; echo "+ $fs_f"; else echo "- $fs_f"; fi; done`,
    raw('if [ $# -gt 0 ]; then'),
    raw('  if command -v tar >/dev/null 2>&1 && command -v base64 >/dev/null 2>&1; then'),
    raw('    printf "tar "; tar -C "$R/" -chf - -- "$@" 2>/dev/null | base64 -w0; echo'),
    raw('  else'),
    raw(
      '    for fs_f in "$@"; do echo "stat $(stat -L -c \'%a %U %G\' "$R/$fs_f") /$fs_f"; echo "data $(base64 -w0 < "$R/$fs_f") /$fs_f"; done',
    ),
    raw('  fi'),
    raw('fi'),
  );
  return section('files', body, parseFiles);
}

function parseFiles(lines: string[]): Record<string, RemoteFile> {
  const files: Record<string, RemoteFile> = {};
  const setBytes = (path: string, bytes: Buffer) => {
    if (files[path]?.exists) Object.assign(files[path], { sha256: sha256(bytes), content: bytes.toString('utf8') });
  };
  for (const line of lines) {
    const space = line.indexOf(' ');
    const [kind, rest] = [line.slice(0, space), line.slice(space + 1)];
    if (kind === '+' || kind === '-') files[rest] = { exists: kind === '+' };
    else if (kind === 'tar' && rest)
      for (const [path, e] of untar(Buffer.from(rest, 'base64'))) {
        if (files[path]?.exists) Object.assign(files[path], { mode: e.mode, owner: e.owner, group: e.group });
        setBytes(path, e.bytes);
      }
    else if (kind === 'stat') {
      const [mode, owner, group, ...p] = rest.split(' ');
      const path = p.join(' ');
      if (files[path]?.exists) Object.assign(files[path], { mode: mode.padStart(4, '0'), owner, group });
    } else if (kind === 'data') {
      const cut = rest.indexOf(' ');
      setBytes(rest.slice(cut + 1), Buffer.from(rest.slice(0, cut), 'base64'));
    }
  }
  return files;
}

/** hactl's own nginx files in a directory (hactl-*.conf), rendered by this inventory or not. */
export function managedSection(confDir: string): Section<string[]> {
  return section(
    'managed',
    cmd`for mg_f in ${hostPath(confDir)}/hactl-*.conf; do if [ -f "$mg_f" ]; then echo "\${mg_f#"$R"}"; fi; done`,
    (lines) => lines.filter((l) => l.startsWith('/')),
  );
}
