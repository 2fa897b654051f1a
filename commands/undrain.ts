import { EXIT } from '../src/cli/base-command.js';
import { DrainCommand, drainArgs, drainFlags } from '../src/cli/drain-command.js';

export default class Undrain extends DrainCommand {
  static override summary = 'Bring a drained load balancer or backend back into service.';
  static override description = `hactl undrain LB writes 0 into /var/lib/hactl/drain: the node's priority is its own again, a VIP it is master of comes back to it by preemption (a VIP without preemption stays where it is), and hactl waits until it has. hactl undrain --backend NAME removes down from the backend's server lines in nginx on every load balancer (one at a time, under the deploy lock, nginx -t, reload only) and from the record deploy reads.

Exit codes: 0 back in service, 1 it failed or the VIPs did not return in time, 2 usage or inventory error, 130 interrupted (every host on its old or new state).`;
  static override examples = [
    '<%= config.bin %> undrain --inventory inventory.yaml lb1',
    '<%= config.bin %> undrain --inventory inventory.yaml --backend web1 --json',
  ];
  static override enableJsonFlag = true;
  static override args = drainArgs;
  static override flags = drainFlags(false);

  async run() {
    const { args, flags } = await this.parse(Undrain);
    const r = await this.drainRun('undrain', args.lb, flags);
    return this.finish(r.doc, r.ok ? EXIT.ok : EXIT.failed);
  }
}
