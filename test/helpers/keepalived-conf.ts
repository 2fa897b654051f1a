/**
 * Reads a keepalived.conf back into the VRRP subset the expressibility test compares: per
 * instance its state, interface, VRID, priority, advert_int, auth, addresses, tracked links and
 * scripts; the sync groups; chosen global_defs lines. Enough of keepalived's block syntax for
 * the files hactl writes (one keyword per line, `{` at the end of a line, `}` alone).
 */
export interface ConfNode {
  key: string;
  args: string[];
  children: ConfNode[];
}

export function parseConf(text: string): ConfNode[] {
  const root: ConfNode = { key: '', args: [], children: [] };
  const stack = [root];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[#!].*$/, '').trim();
    if (line === '') continue;
    if (line === '}') {
      stack.pop();
      continue;
    }
    const opens = line.endsWith('{');
    const [key, ...args] = line.replace(/\{$/, '').trim().split(/\s+/);
    const node: ConfNode = { key, args, children: [] };
    stack[stack.length - 1].children.push(node);
    if (opens) stack.push(node);
  }
  return root.children;
}

export interface InstanceSubset {
  name: string;
  state: string;
  interface: string;
  vrid: number;
  priority: number;
  advert_int: number;
  nopreempt?: true;
  auth?: string;
  /** `<cidr>`, or `<cidr> dev <dev>` when dev is not the instance's interface. */
  addresses: string[];
  excluded?: string[];
  track_interface?: string[];
  track_script?: string[];
}

export interface VrrpSubset {
  instances: InstanceSubset[];
  sync_groups?: Record<string, string[]>;
  /** The global_defs lines asked for (by keyword). */
  globals?: string[];
}

const child = (n: ConfNode, key: string) => n.children.find((c) => c.key === key);
const lines = (n: ConfNode | undefined) => (n ? n.children.map((c) => [c.key, ...c.args].join(' ')) : undefined);

function addressList(n: ConfNode | undefined, iface: string): string[] | undefined {
  return n?.children.map((c) => {
    const dev = c.args[c.args.indexOf('dev') + 1];
    return c.args.includes('dev') && dev !== iface ? `${c.key} dev ${dev}` : c.key;
  });
}

function instanceOf(n: ConfNode): InstanceSubset {
  const one = (key: string) => child(n, key)?.args[0];
  const iface = one('interface') ?? '';
  const auth = child(n, 'authentication');
  const out: InstanceSubset = {
    name: n.args[0],
    state: one('state') ?? 'BACKUP',
    interface: iface,
    vrid: Number(one('virtual_router_id')),
    priority: Number(one('priority') ?? 100),
    advert_int: Number(one('advert_int') ?? 1),
    addresses: addressList(child(n, 'virtual_ipaddress'), iface) ?? [],
  };
  if (child(n, 'nopreempt')) out.nopreempt = true;
  if (auth) out.auth = `${child(auth, 'auth_type')?.args[0]} ${child(auth, 'auth_pass')?.args[0]}`;
  const excluded = addressList(child(n, 'virtual_ipaddress_excluded'), iface);
  if (excluded) out.excluded = excluded;
  const ti = lines(child(n, 'track_interface'));
  if (ti) out.track_interface = ti;
  const ts = lines(child(n, 'track_script'));
  if (ts) out.track_script = ts;
  return out;
}

export function vrrpSubset(text: string, globals: string[] = []): VrrpSubset {
  const nodes = parseConf(text);
  const out: VrrpSubset = { instances: nodes.filter((n) => n.key === 'vrrp_instance').map(instanceOf) };
  const groups = nodes.filter((n) => n.key === 'vrrp_sync_group');
  if (groups.length > 0)
    out.sync_groups = Object.fromEntries(groups.map((g) => [g.args[0], lines(child(g, 'group')) ?? []]));
  if (globals.length > 0) {
    const defs = nodes.find((n) => n.key === 'global_defs');
    out.globals = (lines(defs) ?? []).filter((l) => globals.includes(l.split(' ')[0]));
  }
  return out;
}
