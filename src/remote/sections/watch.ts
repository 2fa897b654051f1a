/**
 * The VIP watch: a bounded loop that prints the node's addresses every tick, each tick's block
 * ended by a `@tick` line (so a tick is complete the moment its marker arrives), for failover-test to timestamp VIP moves as they arrive. One `ip`
 * process per tick; the loop ends when the channel closes (its next write fails) or after
 * MAX_TICKS, so it never outlives the test by more than a tick.
 */
import { cmd, raw, script } from '../script.js';
import { section, type Section } from '../section.js';
import { netSection } from './host.js';

export const WATCH_INTERVAL_S = 0.05;
/** 10 minutes at 50 ms. */
export const MAX_TICKS = 12_000;
export const TICK_MARKER = '@tick';

export function watchSection(intervalS = WATCH_INTERVAL_S, maxTicks = MAX_TICKS): Section<Set<string>> {
  return section(
    'vip-watch',
    script(
      raw('vw_i=0'),
      cmd`while [ "$vw_i" -lt ${maxTicks} ]; do`,
      raw('  ip -o addr show 2>/dev/null || exit 0'),
      raw(`  echo ${TICK_MARKER} || exit 0`),
      cmd`  sleep ${intervalS} 2>/dev/null || sleep 1`,
      raw('  vw_i=$((vw_i+1))'),
      raw('done'),
    ),
    parseTick,
  );
}

/** One tick's `ip -o addr show` lines → the addresses (without prefix) the node holds. */
export function parseTick(lines: string[]): Set<string> {
  return new Set(netSection.parse(lines).addresses.map((a) => a.cidr.split('/')[0]));
}
