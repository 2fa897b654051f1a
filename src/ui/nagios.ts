/**
 * verify as a Nagios/Icinga plugin, following the Monitoring Plugins development guidelines:
 * one status line "HACTL <STATE> - <text> | <perfdata>", then one line per problem (long
 * output), and the exit code 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN. Perfdata items are
 * 'label'=value[UOM];[warn];[crit];[min];[max] with thresholds where a value alerts.
 */
import type { VerifyReport } from '../verify/verify.js';

export const NAGIOS_EXIT = { OK: 0, WARNING: 1, CRITICAL: 2, UNKNOWN: 3 } as const;
export type NagiosState = keyof typeof NAGIOS_EXIT;

export interface NagiosOutput {
  state: NagiosState;
  exitCode: number;
  text: string;
}

/** "|" separates text from perfdata, so it never appears in the text. */
const clean = (s: string) => s.replace(/\|/g, '/').replace(/\s+/g, ' ').trim();

function perfdata(r: VerifyReport, failed: number, warnings: number): string {
  const split = r.vips.filter((v) => v.health === 'split-brain').length;
  const down = r.vips.filter((v) => v.health === 'down').length;
  const ok = r.vips.filter((v) => v.health === 'ok' || (v.health === 'failed-over' && v.holders.length === 1)).length;
  return [
    `checks=${r.checks.length};;;0`,
    `failed=${failed};;0;0`,
    `warnings=${warnings};0;;0`,
    `vips=${r.vips.length};;;0`,
    `vips_ok=${ok};;;0;${r.vips.length}`,
    `vips_down=${down};;0;0`,
    `split_brain=${split};;0;0`,
    `time=${(r.durationMs / 1000).toFixed(3)}s;;;0`,
  ].join(' ');
}

/** The worst state: nothing could be asked → UNKNOWN; a failed check → CRITICAL; a warning → WARNING. */
function stateOf(r: VerifyReport, failed: number, warnings: number): NagiosState {
  if (r.facts.size === 0 && r.checks.some((c) => c.kind === 'ssh')) return 'UNKNOWN';
  if (failed > 0) return 'CRITICAL';
  return warnings > 0 ? 'WARNING' : 'OK';
}

export function nagiosVerify(r: VerifyReport): NagiosOutput {
  const bad = r.checks.filter((c) => !c.ok);
  const warned = r.checks.filter((c) => c.ok && c.warning);
  const state = stateOf(r, bad.length, warned.length);
  const first = (c: (typeof r.checks)[number]) =>
    clean(`${c.kind} ${c.target}: ${c.detail.split('\n')[0]}`).slice(0, 300);
  const summary =
    state === 'UNKNOWN'
      ? `no load balancer could be asked: ${first(bad[0])}`
      : bad.length
        ? `${bad.length} of ${r.checks.length} checks failed: ${first(bad[0])}`
        : warned.length
          ? `all ${r.checks.length} checks passed, ${warned.length} with a warning: ${first(warned[0])}`
          : `all ${r.checks.length} checks passed, ${r.vips.length} VIP(s) held as configured`;
  // The first problem is in the status line; the others follow it, one per line.
  const long = [...bad, ...warned].slice(1).map(first);
  const text = [`HACTL ${state} - ${summary} | ${perfdata(r, bad.length, warned.length)}`, ...long].join('\n');
  return { state, exitCode: NAGIOS_EXIT[state], text: `${text}\n` };
}

/** An inventory or usage error under --format nagios: the plugin could not check anything. */
export function nagiosUnknown(message: string): NagiosOutput {
  return { state: 'UNKNOWN', exitCode: NAGIOS_EXIT.UNKNOWN, text: `HACTL UNKNOWN - ${clean(message)}\n` };
}
