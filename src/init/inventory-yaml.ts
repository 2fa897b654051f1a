/**
 * Pure: the wizard's answers → an inventory document → YAML text with comments explaining each
 * part, checked by the same loader `hactl validate` uses. Nothing invalid leaves this file.
 */
import { Document, isMap, isScalar, isSeq, type Node, type YAMLMap } from 'yaml';
import { loadInventoryText } from '../inventory/load.js';
import { InventoryError, type Problem } from '../inventory/problems.js';
import type { InventoryDoc, SshDoc } from '../inventory/schema.js';
import { siteName, type InitAnswers } from './answers.js';

export function inventoryDoc(a: InitAnswers): InventoryDoc {
  const ssh: SshDoc = { user: a.ssh.user };
  if (a.ssh.port !== undefined) ssh.port = a.ssh.port;
  if (a.ssh.identityFile) ssh.identity_file = a.ssh.identityFile;
  if (a.ssh.knownHosts) ssh.known_hosts = a.ssh.knownHosts;
  ssh.host_key_policy = a.ssh.hostKeyPolicy;
  if (a.ssh.jumpHost) ssh.jump_host = a.ssh.jumpHost;
  return {
    version: 1,
    ssh,
    clusters: [
      {
        name: a.cluster,
        interface: a.interface,
        load_balancers: a.lbs.map((lb) => ({
          name: lb.name,
          address: lb.address,
          ...(lb.vrrpAddress ? { vrrp_address: lb.vrrpAddress } : {}),
          ...(lb.interface && lb.interface !== a.interface ? { interface: lb.interface } : {}),
        })),
        vrrp: { advert_int: 1, ...(a.vrrpPassEnv ? { auth: { type: 'PASS' as const, pass_env: a.vrrpPassEnv } } : {}) },
        vips: a.vips.map((v) => ({
          name: v.name,
          address: v.address,
          vrid: v.vrid,
          master: v.master,
          priorities: { ...v.priorities },
        })),
        health_check: { mode: 'script' as const, interval: 1, fall: 2, rise: 2, weight: 0, alive_interval: 0.1 },
        backends: a.backends.map((b) => ({ name: b.name, address: b.address, port: b.port })),
        sites: [
          {
            name: siteName(a.serverNames),
            server_names: [...a.serverNames],
            vips: a.vips.map((v) => v.name),
            port: 80,
            backends: a.backends.map((b) => b.name),
            health_path: a.healthPath,
          },
        ],
      },
    ],
  };
}

/** Comment lines (each starting with a space, as the yaml package expects). */
const lines = (...text: string[]) => text.map((t) => ` ${t}`).join('\n');

function before(map: YAMLMap, key: string, comment: string, space = true): void {
  const pair = map.items.find((p) => isScalar(p.key) && p.key.value === key);
  if (!pair || !isScalar(pair.key)) return;
  pair.key.commentBefore = comment;
  pair.key.spaceBefore = space;
}

function after(map: YAMLMap, key: string, comment: string): void {
  const node = map.get(key, true) as Node | undefined;
  if (node) node.comment = ` ${comment}`;
}

function commentSsh(root: YAMLMap, a: InitAnswers): void {
  before(
    root,
    'ssh',
    lines(
      'How hactl reaches the load balancers over SSH (defaults for every host; a load balancer may',
      'override them under its own ssh: key). ~/.ssh/config is honoured too.',
    ),
  );
  const ssh = root.get('ssh') as YAMLMap;
  after(
    ssh,
    'user',
    a.ssh.user === 'root'
      ? 'a non-root user gets `sudo -n` automatically'
      : 'not root: commands run through `sudo -n` (passwordless sudo needed)',
  );
  after(ssh, 'host_key_policy', 'strict | accept-new (records unknown keys); a changed key is always refused');
  if (a.ssh.identityFile) after(ssh, 'identity_file', 'the ssh-agent ($SSH_AUTH_SOCK) is tried too');
}

/** What each part of the cluster is, in words, above its key. */
function commentCluster(c: YAMLMap, a: InitAnswers): void {
  after(c, 'interface', 'the VRRP interface on every load balancer (unless one sets its own)');
  before(
    c,
    'load_balancers',
    lines(
      'Two or more hosts running keepalived and nginx. address is where hactl connects; vrrp_address',
      "(when present) is the node's own address on the VRRP interface.",
    ),
  );
  before(
    c,
    'vrrp',
    lines(
      'VRRP defaults for every VIP below.',
      ...(a.vrrpPassEnv
        ? [`The password stays out of this file: export ${a.vrrpPassEnv}=<at most 8 characters> before deploying.`]
        : ['No VRRP authentication. To add it: auth: { type: PASS, pass_env: HACTL_VRRP_PASS }']),
    ),
  );
  before(
    c,
    'vips',
    lines(
      a.mode === 'dual-master'
        ? "Dual-master: two VIPs, each normally held by a different load balancer; each takes over the other's when it fails."
        : 'Active-passive: one VIP, held by its master; a backup takes it over when the master or its nginx fails.',
      'vrid (virtual_router_id) must be the same on every node of a VIP and unique on the network segment.',
      'The highest priority holds the VIP; add `preempt: false` to keep it where it is after a failover.',
    ),
  );
  before(
    c,
    'health_check',
    lines(
      'The nginx check that moves a VIP: with weight 0 a node whose nginx is down goes to FAULT and',
      'releases its VIPs at once; fall 2 HTTP probes in a row make a hung nginx, and the alive check',
      '(a connect every alive_interval seconds) finds a dead one without waiting for them.',
      '`hactl validate` refuses settings that could not move a VIP.',
    ),
  );
  before(c, 'backends', lines('The web servers nginx proxies to.'));
  before(
    c,
    'sites',
    lines(
      'Virtual hosts nginx serves on the VIPs. health_path is checked on every backend and through',
      'each VIP after a deploy (with the first server name as Host header).',
    ),
  );
}

/** Short lists and small maps on one line, as a person would write them. */
function flowStyle(c: YAMLMap): void {
  const flow = (node: unknown) => {
    if (isSeq(node) || isMap(node)) node.flow = true;
  };
  for (const key of ['load_balancers', 'backends']) {
    const seq = c.get(key);
    if (isSeq(seq)) seq.items.forEach(flow);
  }
  const sites = c.get('sites');
  if (isSeq(sites))
    for (const site of sites.items)
      if (isMap(site)) for (const key of ['server_names', 'vips', 'backends']) flow(site.get(key));
  const vips = c.get('vips');
  if (isSeq(vips)) for (const item of vips.items) if (isMap(item)) flow(item.get('priorities'));
}

export function inventoryYaml(a: InitAnswers, generatedBy = 'hactl init'): string {
  const doc = new Document(inventoryDoc(a));
  doc.commentBefore = lines(
    `hactl inventory, written by \`${generatedBy}\`.`,
    'Check it with `hactl validate -i <this file>`; `hactl render` shows every file it produces,',
    'and `hactl schema` prints the JSON Schema editors use for completion.',
  );
  const root = doc.contents as YAMLMap;
  commentSsh(root, a);
  before(
    root,
    'clusters',
    lines('One cluster: load balancers sharing VIPs through keepalived (VRRP), nginx in front of the backends.'),
  );
  const clusters = root.get('clusters');
  if (isSeq(clusters) && isMap(clusters.items[0])) {
    const c = clusters.items[0] as YAMLMap;
    commentCluster(c, a);
    flowStyle(c);
  }
  return doc.toString({ lineWidth: 0 });
}

export interface Checked {
  text: string;
  problems: Problem[];
}

/**
 * Renders and validates. Throws InventoryError (every problem) when the loader refuses the
 * text; warnings (e.g. the password variable not set yet) are returned.
 */
export function checkedInventoryYaml(a: InitAnswers, file: string, env: NodeJS.ProcessEnv = process.env): Checked {
  const text = inventoryYaml(a);
  const r = loadInventoryText(file, text, { env, requireSecrets: false });
  if (!r.inventory) throw new InventoryError(r.problems);
  return { text, problems: r.problems };
}
