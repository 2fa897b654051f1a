/**
 * Whether keepalived's track_process can work on this host. It learns of processes starting
 * and exiting from the kernel's proc connector (netlink), and the kernel answers a subscription
 * only from the initial PID and user namespaces over the initial network namespace's connector:
 * in a container (its own PID or network namespace, as every lab host is) keepalived gets no
 * event, counts no nginx, and holds its instances in FAULT for good. This subscribes the way
 * keepalived does (PROC_CN_MCAST_LISTEN) and waits half a second for the kernel's answer.
 * python3 is on Debian's and Ubuntu's cloud images (hactl's VRRP listener uses it too); where
 * it is missing the answer is "unknown".
 */
import { raw } from '../script.js';
import { section, type Section } from '../section.js';

export type ProcEvents = 'yes' | 'no' | 'unknown';

// No single quote inside: the program is one single-quoted shell word.
const PROGRAM = [
  'import select, socket, struct',
  'try:',
  '    s = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, 11)',
  '    s.bind((0, 1))',
  '    op = struct.pack("I", 1)',
  '    cn = struct.pack("IIIIHH", 1, 1, 0, 0, len(op), 0) + op',
  '    s.send(struct.pack("IHHII", 16 + len(cn), 3, 0, 0, 0) + cn)',
  '    ok = bool(select.select([s], [], [], 0.5)[0])',
  '    if ok:',
  '        s.send(struct.pack("IHHII", 16 + len(cn), 3, 0, 0, 0) + cn[:-4] + struct.pack("I", 2))',
  'except OSError:',
  '    ok = False',
  'print("proc-events " + ("yes" if ok else "no"))',
].join('\n');

export const procEventsSection: Section<ProcEvents> = section(
  'proc-events',
  raw(
    `if command -v python3 >/dev/null 2>&1; then python3 -c '${PROGRAM}' 2>/dev/null || echo 'proc-events no'; else echo 'proc-events unknown'; fi`,
  ),
  (lines) => {
    const v = lines.find((l) => l.startsWith('proc-events '))?.slice('proc-events '.length);
    return v === 'yes' || v === 'no' ? v : 'unknown';
  },
);

/** Whether a cluster's health check relies on keepalived's track_process. */
export const usesTrackProcess = (mode: string) => mode === 'process' || mode === 'both';

/** Why track_process cannot work on `lb`, with the fix; undefined when it can (or cannot be told). */
export function procEventsProblem(lb: string, mode: string, pe: ProcEvents): string | undefined {
  if (pe !== 'no') return undefined;
  return (
    `health_check.mode ${mode} uses keepalived's track_process, which hears of nginx starting and exiting through ` +
    `the kernel's proc connector, and ${lb} gets no answer from it (keepalived there runs in a PID or network ` +
    `namespace of its own, as in a container): keepalived would count no nginx and hold the VIPs in FAULT. ` +
    `Use health_check.mode: script`
  );
}
