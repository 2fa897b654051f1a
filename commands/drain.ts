import { EXIT } from '../src/cli/base-command.js';
import { DrainCommand, drainArgs, drainFlags } from '../src/cli/drain-command.js';

export default class Drain extends DrainCommand {
  static override summary =
    'Take a load balancer out of every VRRP election (its VIPs move to the next node gracefully), or a backend out of nginx.';
  static override description = `hactl drain LB writes a negative value into /var/lib/hactl/drain, the file keepalived tracks (track_file hactl_drain, rendered by deploy): the node's priority drops below every peer (to FAULT for a VIP without preemption), so the peers take its VIPs over without keepalived being stopped or reloaded. It waits until every VIP is held by another node and the sites answer through the VIPs. The node stays out through keepalived restarts and deploys until hactl undrain LB. Refused when the node is the last healthy node of a VIP; --force drains anyway after confirmation.

hactl drain --backend NAME marks the backend down in nginx on every load balancer (one at a time, under the deploy lock, nginx -t, reload only), records it on the hosts so deploy keeps it down, then waits (up to --timeout) until no load balancer has an established connection to it or an nginx worker from before the reload (old workers finish their clients' requests with the old configuration, and until the master has read the new one they still accept), and says when it is safe to stop it.

Exit codes: 0 drained (VIPs moved and sites answer; or nothing left that could reach the backend), 1 it failed or timed out (the node or backend stays drained) or not confirmed, 2 usage or inventory error or refused (the last healthy node; --force without a terminal and without --yes), 130 interrupted (every host on its old or new state).`;
  static override examples = [
    '<%= config.bin %> drain --inventory inventory.yaml lb1',
    '<%= config.bin %> drain --inventory inventory.yaml lb1 --force --yes --json',
    '<%= config.bin %> drain --inventory inventory.yaml --backend web1 --timeout 120',
  ];
  static override enableJsonFlag = true;
  static override args = drainArgs;
  static override flags = drainFlags(true);

  async run() {
    const { args, flags } = await this.parse(Drain);
    const r = await this.drainRun('drain', args.lb, flags);
    return this.finish(r.doc, r.ok ? EXIT.ok : EXIT.failed);
  }
}
