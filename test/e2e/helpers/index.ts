/** Everything an e2e test needs from the lab, in one import. */
export { useLab, labOptions, tempLabDir, fixtureOf, type LabFixture, type LabRequest } from './lab.js';
export {
  inHost,
  inNetns,
  putFile,
  service,
  startService,
  stopService,
  killService,
  servicePids,
  linkDown,
  linkUp,
  type Service,
} from './host.js';
export { vipHolders, waitForVip, dropVrrp } from './vrrp.js';
export { sshRun, sshArgs, type SshOptions } from './ssh.js';
export {
  probe,
  startProbe,
  summarizeProbe,
  type ProbeOptions,
  type ProbeResult,
  type ProbeSummary,
} from '../../../src/verify/probe.js';
export { waitFor, GiveUp } from '../../../src/util/wait-for.js';
export { scanLeftovers, isEmpty, describeLeftovers } from '../../../src/lab/teardown.js';
