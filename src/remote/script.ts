/**
 * Remote shell text as a value. A script is built from `cmd` templates, in which every
 * interpolated value is quoted by construction (strings, numbers, lists of them), host paths
 * are written under the root prefix "$R", and only `raw()` fragments (constants written in
 * this repository, never inventory or host data) are spliced as they are.
 *
 * The root prefix is empty on real hosts. A test sandbox sets it to a temporary directory, so
 * the very scripts production sends can run under `sh` against files a test controls.
 */
import { quote } from '../shell/quote.js';

/** Shell text that is safe to splice: only cmd``, raw() and script() make one. */
export class Shell {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

/** An absolute path on the host; rendered as "$R"<path>. */
export class HostPath {
  constructor(readonly path: string) {
    if (!path.startsWith('/')) throw new Error(`host path must be absolute: ${path}`);
  }
}

export type Arg = string | number | Shell | HostPath | readonly (string | number | HostPath)[];

/** A constant fragment of shell (control flow, pipes, variables of the script's own). */
export function raw(text: string): Shell {
  return new Shell(text);
}

/** A path on the host, under the root prefix. */
export function hostPath(path: string): HostPath {
  return new HostPath(path);
}

function renderArg(a: Arg): string {
  if (a instanceof Shell) return a.text;
  if (a instanceof HostPath) return `"$R"${quote(a.path)}`;
  if (Array.isArray(a)) return a.map((x) => renderArg(x as string | number | HostPath)).join(' ');
  return quote(a as string | number);
}

/** A command line: literal parts as written, interpolations quoted. */
export function cmd(strings: TemplateStringsArray, ...args: Arg[]): Shell {
  let out = strings[0];
  args.forEach((a, i) => (out += renderArg(a) + strings[i + 1]));
  return new Shell(out);
}

/** Lines joined in order (falsy entries skipped, so optional steps read naturally). */
export function script(...lines: (Shell | false | undefined | null)[]): Shell {
  return new Shell(
    lines
      .filter((l): l is Shell => l instanceof Shell)
      .map((l) => l.text)
      .join('\n'),
  );
}

/** What is sent: the root prefix, then the body. `root` is '' on every real host. */
export function render(body: Shell, root = ''): string {
  return `R=${quote(root)}\n${body.text}\n`;
}
