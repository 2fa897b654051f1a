/**
 * Reads the vrrp_instance settings from a keepalived.conf as it actually is on a host (hand
 * edits included), for comparing nodes when diagnosing split brain. Tolerant: unknown
 * keywords are skipped; include files are not followed.
 */
export interface InstanceConf {
  name: string;
  state?: string;
  interface?: string;
  vrid?: number;
  priority?: number;
  advertInt?: number;
  version?: number;
  authType?: string;
  authPass?: string;
  unicastSrc?: string;
  unicastPeers: string[];
  addresses: string[];
}

function tokens(text: string): string[] {
  const out: string[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.replace(/[#!].*$/, '');
    for (const m of line.matchAll(/"([^"]*)"|([{}])|([^\s{}"]+)/g)) out.push(m[1] ?? m[2] ?? m[3]);
  }
  return out;
}

/** Collect the tokens of one {...} block starting after its opening brace; returns [block, next index]. */
function block(t: string[], start: number): [string[], number] {
  let depth = 1;
  let i = start;
  for (; i < t.length && depth > 0; i++) {
    if (t[i] === '{') depth++;
    else if (t[i] === '}') depth--;
  }
  return [t.slice(start, i - 1), i];
}

function parseInstance(name: string, body: string[]): InstanceConf {
  const c: InstanceConf = { name, unicastPeers: [], addresses: [] };
  for (let i = 0; i < body.length; i++) {
    const k = body[i];
    const next = body[i + 1];
    const sub = () => {
      const [b, end] = block(body, i + 2);
      i = end - 1;
      return b;
    };
    switch (k) {
      case 'state':
        c.state = next;
        i++;
        break;
      case 'interface':
        c.interface = next;
        i++;
        break;
      case 'virtual_router_id':
        c.vrid = Number(next);
        i++;
        break;
      case 'priority':
        c.priority = Number(next);
        i++;
        break;
      case 'advert_int':
        c.advertInt = Number(next);
        i++;
        break;
      case 'version':
        c.version = Number(next);
        i++;
        break;
      case 'unicast_src_ip':
        c.unicastSrc = next;
        i++;
        break;
      case 'authentication':
        if (next === '{') {
          const b = sub();
          for (let j = 0; j < b.length; j++) {
            if (b[j] === 'auth_type') c.authType = b[j + 1];
            if (b[j] === 'auth_pass') c.authPass = b[j + 1];
          }
        }
        break;
      case 'unicast_peer':
        if (next === '{') c.unicastPeers = sub().filter((x) => /^[0-9a-fA-F.:]+$/.test(x));
        break;
      case 'virtual_ipaddress':
        if (next === '{') c.addresses = sub().filter((x) => /^[0-9a-fA-F.:]+(\/\d+)?$/.test(x));
        break;
      default:
        if (next === '{') sub();
    }
  }
  return c;
}

export function parseKeepalivedConf(text: string): { instances: InstanceConf[]; globalVersion?: number } {
  const t = tokens(text);
  const instances: InstanceConf[] = [];
  let globalVersion: number | undefined;
  for (let i = 0; i < t.length; i++) {
    if (t[i] === 'vrrp_instance' && t[i + 2] === '{') {
      const [b, end] = block(t, i + 3);
      instances.push(parseInstance(t[i + 1], b));
      i = end - 1;
    } else if (t[i] === 'global_defs' && t[i + 1] === '{') {
      const [b, end] = block(t, i + 2);
      const v = b.indexOf('vrrp_version');
      if (v >= 0) globalVersion = Number(b[v + 1]);
      i = end - 1;
    }
  }
  return { instances, globalVersion };
}
