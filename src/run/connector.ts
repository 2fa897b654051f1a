/** Builds the per-host connect function commands use: inventory ssh settings + ~/.ssh/config → ssh2. */
import type { LbConnector } from '../transport/transport.js';
import { connect, JumpPool } from '../transport/ssh.js';
import { loadSshConfig, resolveTarget, type SshConfig } from '../transport/ssh-config.js';

export function sshConnector(opts: { sshConfigPath?: string } = {}): LbConnector {
  let config: SshConfig | undefined;
  const jumps = new JumpPool();
  return async (lb) => {
    config ??= loadSshConfig(opts.sshConfigPath);
    return connect(resolveTarget({ name: lb.name, address: lb.address, ssh: lb.ssh }, config), { jumps });
  };
}
