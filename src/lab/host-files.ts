/**
 * What a host's upper layer holds before it boots: its name, the lab key for root and for a
 * non-root sudo user (added to the image's own account files), and on backends an nginx site
 * that says who answered. Everything else, dotfiles included, comes from the host's image
 * underneath: every path read here is read in the image, never in this machine's /.
 */
import { chmod, chown, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { HostPlan, LabPlan } from './types.js';

export interface FileSpec {
  path: string;
  content: string;
  mode: number;
  uid: number;
  gid: number;
}

export interface DirSpec {
  path: string;
  mode: number;
  uid: number;
  gid: number;
}

export interface HostFiles {
  dirs: DirSpec[];
  files: FileSpec[];
}

export interface LabUser {
  name: string;
  uid: number;
  gid: number;
  home: string;
}

async function imageFile(path: string): Promise<{ content: string; mode: number; uid: number; gid: number }> {
  const [content, st] = await Promise.all([readFile(path, 'utf8'), stat(path)]);
  return { content, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid };
}

function freeId(used: Set<number>, from: number): number {
  let id = from;
  while (used.has(id)) id++;
  return id;
}

/** Files every host booting from the image at `imageRoot` shares: account databases with the sudo user, keys, dotfiles. */
export async function commonFiles(
  plan: LabPlan,
  authorizedKey: string,
  imageRoot: string,
): Promise<{ files: HostFiles; user: LabUser }> {
  const [passwd, group, shadow, gshadow, bashrc, profile] = await Promise.all(
    ['/etc/passwd', '/etc/group', '/etc/shadow', '/etc/gshadow', '/etc/skel/.bashrc', '/etc/skel/.profile'].map((p) =>
      imageFile(join(imageRoot, p)),
    ),
  );
  const name = plan.nonRootUser;
  const existing = passwd.content.split('\n').find((l) => l.startsWith(`${name}:`));
  let uid: number;
  let gid: number;
  const add = (f: typeof passwd, line: string) => ({ ...f, content: `${f.content.replace(/\n?$/, '\n')}${line}\n` });
  let accounts = { passwd, group, shadow, gshadow };
  if (existing) {
    [uid, gid] = existing.split(':').slice(2, 4).map(Number);
  } else {
    const ids = (text: string, col: number) =>
      new Set(
        text
          .split('\n')
          .filter(Boolean)
          .map((l) => Number(l.split(':')[col])),
      );
    uid = freeId(ids(passwd.content, 2), 2000);
    gid = freeId(ids(group.content, 2), uid);
    const days = Math.floor(Date.now() / 86_400_000);
    accounts = {
      passwd: add(passwd, `${name}:x:${uid}:${gid}:hactl lab operator:/home/${name}:/bin/bash`),
      group: add(group, `${name}:x:${gid}:`),
      shadow: add(shadow, `${name}:*:${days}:0:99999:7:::`),
      gshadow: add(gshadow, `${name}:!::`),
    };
  }
  const home = `/home/${name}`;
  const root = { uid: 0, gid: 0 };
  const user = { uid, gid };
  const key = `${authorizedKey.trim()}\n`;
  const files: FileSpec[] = [
    { path: '/etc/passwd', ...accounts.passwd },
    { path: '/etc/group', ...accounts.group },
    { path: '/etc/shadow', ...accounts.shadow },
    { path: '/etc/gshadow', ...accounts.gshadow },
    { path: '/etc/sudoers.d/hactl-lab', content: `${name} ALL=(ALL:ALL) NOPASSWD: ALL\n`, mode: 0o440, ...root },
    { path: '/root/.bashrc', ...bashrc, ...root },
    { path: '/root/.profile', ...profile, ...root },
    { path: '/root/.ssh/authorized_keys', content: key, mode: 0o600, ...root },
    { path: `${home}/.bashrc`, ...bashrc, ...user },
    { path: `${home}/.profile`, ...profile, ...user },
    { path: `${home}/.ssh/authorized_keys`, content: key, mode: 0o600, ...user },
  ];
  const dirs: DirSpec[] = [
    { path: '/root/.ssh', mode: 0o700, ...root },
    { path: home, mode: 0o750, ...user },
    { path: `${home}/.ssh`, mode: 0o700, ...user },
  ];
  return { files: { dirs, files }, user: { name, uid, gid, home } };
}

export function etcHosts(plan: LabPlan, host: HostPlan): string {
  return [
    '127.0.0.1\tlocalhost',
    `127.0.1.1\t${host.name}`,
    '::1\tlocalhost ip6-localhost ip6-loopback',
    `# hactl lab ${plan.id} (${plan.subnet})`,
    ...plan.hosts.map((h) => `${h.ip}\t${h.name}`),
    ...plan.hosts.filter((h) => h.ip6).map((h) => `${h.ip6}\t${h.name}`),
    '',
  ].join('\n');
}

/**
 * A backend's whole nginx site: the body names the backend and echoes the Host header. Its
 * header is X-Lab-Backend, not X-Hactl-*: that prefix is what hactl's load balancers reveal
 * only to probes carrying the probe token, and the e2e tier checks nothing else carries it.
 */
export function backendSite(host: HostPlan): string {
  return `# hactl lab backend ${host.name}: every answer says which backend it is and what it was asked.
server {
    listen 80 default_server;${host.ip6 ? '\n    listen [::]:80 default_server;' : ''}
    server_name _;
    add_header X-Lab-Backend ${host.name} always;
    location / {
        # No extension-based types: /webserver.html answers text/plain too.
        types { }
        default_type text/plain;
        return 200 "backend=${host.name} host=$host uri=$uri\\n";
    }
}
`;
}

export function hostFiles(plan: LabPlan, host: HostPlan, common: HostFiles): HostFiles {
  const root = { uid: 0, gid: 0 };
  const files: FileSpec[] = [
    ...common.files,
    { path: '/etc/hostname', content: `${host.name}\n`, mode: 0o644, ...root },
    { path: '/etc/hosts', content: etcHosts(plan, host), mode: 0o644, ...root },
  ];
  if (host.role === 'backend') {
    files.push({ path: '/etc/nginx/sites-enabled/default', content: backendSite(host), mode: 0o644, ...root });
  }
  return { dirs: common.dirs, files };
}

/** Creates `rel`'s missing ancestors in `upper` with the mode and owner they have in the image. */
async function ensureParents(upper: string, rel: string, explicit: Map<string, DirSpec>, image: string): Promise<void> {
  const parts = dirname(rel).split('/').filter(Boolean);
  let path = '';
  for (const part of parts) {
    path += `/${part}`;
    const spec =
      explicit.get(path) ??
      (await stat(join(image, path)).then(
        (st) => ({ path, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid }),
        () => ({ path, mode: 0o755, uid: 0, gid: 0 }),
      ));
    const target = join(upper, path);
    const made = await mkdir(target, { mode: spec.mode }).then(
      () => true,
      (e: NodeJS.ErrnoException) => {
        if (e.code === 'EEXIST') return false;
        throw e;
      },
    );
    if (made) {
      await chmod(target, spec.mode);
      await chown(target, spec.uid, spec.gid);
    }
  }
}

export async function writeHostFiles(upper: string, files: HostFiles, imageRoot: string): Promise<void> {
  const explicit = new Map(files.dirs.map((d) => [d.path, d]));
  for (const d of files.dirs) await ensureParents(upper, `${d.path}/x`, explicit, imageRoot);
  for (const f of files.files) {
    await ensureParents(upper, f.path, explicit, imageRoot);
    const target = join(upper, f.path);
    await writeFile(target, f.content, { mode: f.mode });
    await chmod(target, f.mode);
    await chown(target, f.uid, f.gid);
  }
}
