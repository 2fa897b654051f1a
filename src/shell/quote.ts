/**
 * The one quoting function. Every remote command is built as an argument array and turned
 * into shell text here, and nowhere else.
 */
const SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** Quote one argument for a POSIX shell. */
export function quote(arg: string | number): string {
  const s = String(arg);
  if (s.length > 0 && SAFE.test(s)) return s;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Turn an argument array into one shell command line. */
export function sh(argv: readonly (string | number)[]): string {
  if (argv.length === 0) throw new Error('sh(): empty command');
  return argv.map(quote).join(' ');
}

/** Wrap a script so it runs as root through `sudo -n` (never prompts: fails instead). */
export function asRoot(script: string, sudo: boolean): string {
  return sudo ? sh(['sudo', '-n', '--', 'sh', '-c', script]) : script;
}
