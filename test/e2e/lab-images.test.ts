/**
 * Lab hosts that are real servers: each release's root is built once and reused, a killed or
 * half-done build is rebuilt and never used, a `--packages none` host is a new server whose
 * apt reaches only the lab repository (lists empty until apt-get update), mixed clusters run
 * different releases, IPv6 works on the lab's /64, the seed's nginx prefix layout is there,
 * and lab down leaves nothing (the caches stay; clean-cache refuses while a lab uses them).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { down, up } from '../../src/lab/lab.js';
import { CacheInUse, cleanCache } from '../../src/lab/image-cache.js';
import { imagePaths } from '../../src/lab/image-plan.js';
import { ensureImage, readMarker } from '../../src/lab/images.js';
import { prefixNginxCommand } from '../../src/lab/nginx-prefix.js';
import { sh } from '../../src/shell/quote.js';
import type { LabState } from '../../src/lab/types.js';
import { describeLeftovers, inHost, labOptions, scanLeftovers, tempLabDir, useLab, waitFor } from './helpers/index.js';

const APT = 'export DEBIAN_FRONTEND=noninteractive;';
const INSTALL = `${APT} apt-get install -y -q --no-install-recommends keepalived nginx`;

/** Mount table lines of any process on this machine that mention `mark`. */
function mountsMentioning(mark: string): string[] {
  const lines: string[] = [];
  for (const pid of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    try {
      lines.push(
        ...readFileSync(`/proc/${pid}/mountinfo`, 'utf8')
          .split('\n')
          .filter((l) => l.includes(mark)),
      );
    } catch {
      /* exited */
    }
  }
  return lines;
}

/** cp -a: device nodes, owners and links as they are (an image root has all three). */
async function copyTree(from: string, to: string): Promise<void> {
  await execa('mkdir', ['-p', dirname(to)]);
  await execa('cp', ['-a', from, to]);
}

/** With HACTL_LAB_CACHE_DIR pointing at a fresh temp dir for the duration of `fn`. */
async function withTempCache<T>(fn: (root: string) => Promise<T>): Promise<T> {
  const root = mkdtempSync(join(tmpdir(), 'hactl-e2e-cache-'));
  const before = process.env.HACTL_LAB_CACHE_DIR;
  process.env.HACTL_LAB_CACHE_DIR = root;
  try {
    return await fn(root);
  } finally {
    if (before === undefined) delete process.env.HACTL_LAB_CACHE_DIR;
    else process.env.HACTL_LAB_CACHE_DIR = before;
    rmSync(root, { recursive: true, force: true });
  }
}

describe('a --packages none lab (the default): new servers', () => {
  const lab = useLab({ packages: 'none' });

  test('load balancers run Debian 12 from the image, without keepalived or nginx', async () => {
    for (const h of lab.lbs()) {
      expect(h.release).toBe('debian-12');
      expect(h.image).toBe('base');
      const r = await inHost(lab.state, h.name, '. /etc/os-release; echo $VERSION_ID; command -v keepalived nginx', {
        check: false,
      });
      expect(r.stdout.trim()).toBe('12');
      expect(r.exitCode).not.toBe(0);
      expect((await inHost(lab.state, h.name, 'dpkg -s keepalived nginx', { check: false })).exitCode).not.toBe(0);
    }
  });

  test('apt sees only the lab repository, its lists are empty at boot, and there is no route out', async () => {
    const r = await inHost(
      lab.state,
      'lb1',
      'grep -rhv "^#" /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null | grep .; echo --; ls /var/lib/apt/lists; echo --; ip route get 192.0.2.1 2>&1; ip -6 route get 2001:db8::1 2>&1',
      { check: false },
    );
    const [sources, lists, routes] = r.stdout.split('--\n');
    expect(sources.trim().split('\n')).toEqual(['deb [trusted=yes] file:/srv/hactl-lab-repo ./']);
    expect(
      lists
        .trim()
        .split('\n')
        .filter((f) => f !== 'partial' && f !== 'lock'),
    ).toEqual([]);
    expect(routes).toMatch(/unreachable/);
    expect(routes).not.toMatch(/ via /);
  });

  test('install fails until apt-get update, then keepalived and nginx install from the lab repository', async () => {
    const before = await inHost(lab.state, 'lb1', INSTALL, { check: false, timeoutMs: 60_000 });
    expect(before.exitCode).toBe(100);
    expect(before.stdout + before.stderr).toMatch(/Unable to locate package keepalived/);
    const update = await inHost(lab.state, 'lb1', `${APT} apt-get update`, { timeoutMs: 60_000 });
    expect(update.stdout).toContain('file:/srv/hactl-lab-repo');
    expect(update.stdout).not.toMatch(/https?:\/\//);
    await inHost(lab.state, 'lb1', INSTALL, { timeoutMs: 180_000 });
    const r = await inHost(lab.state, 'lb1', "dpkg-query -W -f='${Package} ${Status}\\n' keepalived nginx");
    expect(r.stdout).toBe('keepalived install ok installed\nnginx install ok installed\n');
  }, 240_000);

  test('the repository is read-only inside the host, and the host cannot change the image', async () => {
    const r = await inHost(lab.state, 'lb2', 'touch /srv/hactl-lab-repo/x', { check: false });
    expect(r.exitCode).not.toBe(0);
    expect(r.stderr).toMatch(/Read-only/);
    await inHost(lab.state, 'lb2', 'echo changed > /etc/motd');
    const image = lab.state.images['debian-12/base'];
    expect(readFileSync(join(image.root, 'etc/motd'), 'utf8')).not.toContain('changed');
  });
});

describe('the image cache', () => {
  test('a second lab reuses the cached images: nothing is built, the image directories are the same', async () => {
    const ref = { release: 'debian-12' as const, kind: 'preinstalled' as const };
    const paths = imagePaths(ref);
    const first = await ensureImage(ref);
    const inode = statSync(paths.dir).ino;
    const lab = await up(labOptions({ packages: 'preinstalled', outDir: tempLabDir('reuse') }));
    try {
      expect(Object.values(lab.images).map((i) => i.built)).toEqual([false]);
      expect(lab.images['debian-12/preinstalled'].marker.builtAt).toBe(first.marker.builtAt);
      expect(statSync(paths.dir).ino).toBe(inode);
      expect(readdirSync(join(paths.dir, '..')).filter((e) => e.startsWith('.build-'))).toEqual([]);
    } finally {
      await down(lab.outDir);
    }
  }, 600_000);

  test('a half-built image (no marker) and a stale build directory are removed and rebuilt, never used', async () => {
    const real = await ensureImage({ release: 'debian-12', kind: 'base' });
    await withTempCache(async () => {
      const base = imagePaths({ release: 'debian-12', kind: 'base' });
      const pre = imagePaths({ release: 'debian-12', kind: 'preinstalled' });
      await copyTree(real.paths.dir, base.dir);
      // What an interrupted copy leaves: part of a root, no image.json.
      await copyTree(join(real.paths.root, 'etc'), join(pre.root, 'etc'));
      await copyTree(join(real.paths.root, 'etc'), join(pre.dir, '..', '.build-preinstalled.KILLED', 'root', 'etc'));
      expect(await readMarker({ release: 'debian-12', kind: 'preinstalled' })).toBeUndefined();
      const info = await ensureImage({ release: 'debian-12', kind: 'preinstalled' });
      expect(info.built).toBe(true);
      expect(existsSync(join(pre.root, 'usr/sbin/nginx'))).toBe(true);
      expect(existsSync(join(pre.root, 'usr/sbin/keepalived'))).toBe(true);
      expect(readdirSync(join(pre.dir, '..')).filter((e) => e.startsWith('.build-'))).toEqual([]);
    });
  }, 300_000);

  test('a build killed during debootstrap leaves no usable image; the next build starts over and completes', async () => {
    await withTempCache(async (root) => {
      const ref = { release: 'debian-12' as const, kind: 'base' as const };
      const script = `import { ensureImage } from './dist/src/lab/images.js';\nawait ensureImage(${JSON.stringify(ref)});`;
      const child = spawn(process.execPath, ['--input-type=module', '-e', script], {
        cwd: process.cwd(),
        env: { ...process.env, HACTL_LAB_CACHE_DIR: root },
        detached: true,
        stdio: 'ignore',
      });
      const parent = join(imagePaths(ref).dir, '..');
      const building = () =>
        readdirSync(parent, { withFileTypes: true }).find((e) => e.name.startsWith('.build-base.'));
      await waitFor(
        () => {
          const b = existsSync(parent) ? building() : undefined;
          return (
            b !== undefined &&
            existsSync(join(parent, b.name, 'debootstrap.log')) &&
            existsSync(join(parent, b.name, 'root'))
          );
        },
        { timeoutMs: 60_000, intervalMs: 50, what: 'debootstrap to start' },
      );
      // As a crash or Ctrl-C would: the whole process group, debootstrap included.
      process.kill(-child.pid!, 'SIGKILL');
      await waitFor(async () => (await execa('pgrep', ['-g', String(child.pid)], { reject: false })).exitCode === 1, {
        timeoutMs: 30_000,
        intervalMs: 100,
        what: 'the killed build to exit',
      });
      expect(await readMarker(ref)).toBeUndefined();
      expect(existsSync(imagePaths(ref).dir)).toBe(false);
      expect(building()).toBeDefined();
      const info = await ensureImage(ref);
      expect(info.built).toBe(true);
      expect(Number(info.marker.repo_packages)).toBeGreaterThan(2);
      expect(building()).toBeUndefined();
      expect(mountsMentioning(root)).toEqual([]);
    });
  }, 420_000);
});

describe('an --os mixed lab', () => {
  const lab = useLab({ os: 'mixed', packages: 'none', lbs: 3, backends: 1 });

  test('lab.json records each host release; the load balancers run 11, 13 and 12 with their own keepalived', async () => {
    expect(lab.lbs().map((h) => h.release)).toEqual(['debian-11', 'debian-13', 'debian-12']);
    const seen: string[] = [];
    for (const h of lab.lbs()) {
      const r = await inHost(
        lab.state,
        h.name,
        `${APT} apt-get update -q >/dev/null && ${INSTALL} >/dev/null && . /etc/os-release && echo $VERSION_ID && keepalived --version 2>&1 | head -n 1`,
        { timeoutMs: 240_000 },
      );
      seen.push(r.stdout.trim());
    }
    expect(seen.map((s) => s.split('\n')[0])).toEqual(['11', '13', '12']);
    const versions = seen.map((s) => /Keepalived v(\S+)/.exec(s)?.[1]);
    expect(new Set(versions).size).toBe(3);
  }, 600_000);
});

describe('an --ipv6 lab with the seed nginx layout (--nginx prefix)', () => {
  const lab = useLab({ ipv6: true, nginx: 'prefix', packages: 'none', backends: 2 });

  test('every host has its ULA address; hosts reach each other and this machine over IPv6', async () => {
    const [web1, web2] = lab.backends();
    for (const h of lab.state.hosts) expect(h.ip6).toMatch(/^fd00:/);
    const r = await inHost(
      lab.state,
      'lb1',
      `ping -6 -c 1 -W 2 ${lab.state.bridgeIp6} >/dev/null && echo machine-ok; curl -gs --max-time 3 http://[${web1.ip6}]/`,
    );
    expect(r.stdout).toContain('machine-ok');
    expect(r.stdout).toContain(`backend=${web1.name}`);
    const fromMachine = await execa('curl', ['-gs', '--max-time', '3', `http://[${web2.ip6}]/`]);
    expect(fromMachine.stdout).toContain(`backend=${web2.name}`);
  });

  test('the inventory has an IPv6 VIP (VRRPv3, no auth) beside the IPv4 one, and the prefix nginx block', async () => {
    const text = readFileSync(lab.state.files.inventory, 'utf8');
    expect(text).toMatch(/name: vip1v6, address: fd00:[0-9a-f:]+::121\/64, vrid: 151, master: lb1, vrrp_version: 3 }/);
    expect(text).toMatch(/nginx:\n\s+binary: \/application\/nginx\/sbin\/nginx\n\s+conf_dir: \/app\/nginx\/conf\n/);
  });

  test('load balancers have nginx only under /application/nginx: no package, no /etc/nginx, no service', async () => {
    const r = await inHost(
      lab.state,
      'lb1',
      'dpkg -s nginx >/dev/null 2>&1 && echo pkg; [ -e /etc/nginx ] && echo etc; [ -e /etc/init.d/nginx ] && echo init; command -v nginx keepalived; echo end',
      { check: false },
    );
    expect(r.stdout.trim()).toBe('end');
    const nginx = (args: string[]) => inHost(lab.state, 'lb1', sh(prefixNginxCommand(args)), { check: false });
    expect((await nginx(['-t'])).exitCode).toBe(0);
    expect((await nginx([])).exitCode).toBe(0);
    await waitFor(
      async () =>
        (await inHost(lab.state, 'lb1', 'cat /application/nginx/logs/nginx.pid', { check: false })).exitCode === 0,
      {
        timeoutMs: 10_000,
        intervalMs: 100,
        what: 'the pid file',
      },
    );
    expect((await nginx(['-s', 'reload'])).exitCode).toBe(0);
    expect((await nginx(['-s', 'stop'])).exitCode).toBe(0);
  });
});

describe('teardown and the cache', () => {
  test('lab down leaves no process, netns, link, mount (the repository bind mount included) or directory', async () => {
    const lab: LabState = await up(labOptions({ packages: 'none', ipv6: true, outDir: tempLabDir('down') }));
    await down(lab.outDir);
    expect(describeLeftovers(await scanLeftovers([lab.id], [lab.outDir]))).toBe('');
    expect(mountsMentioning(lab.stateDir)).toEqual([]);
    expect(existsSync(lab.images['debian-12/base'].root)).toBe(true);
  }, 600_000);

  test('clean-cache removes every cached image and repository, and keeps the lock file', async () => {
    const real = (await ensureImage({ release: 'debian-12', kind: 'base' })).paths;
    await withTempCache(async (root) => {
      await copyTree(real.repo, join(root, 'v1/debian-12/base/repo'));
      await copyTree(real.repo, join(root, 'v0/old'));
      const { removed } = await cleanCache();
      expect(removed.sort()).toEqual([join(root, 'v0'), join(root, 'v1')]);
      expect(readdirSync(root)).toEqual(['lock']);
    });
  });

  test('clean-cache refuses while a lab boots from the cache', async () => {
    const lab: LabState = await up(labOptions({ packages: 'preinstalled', backends: 1, outDir: tempLabDir('inuse') }));
    try {
      await expect(cleanCache()).rejects.toThrow(CacheInUse);
      await expect(cleanCache()).rejects.toThrow(new RegExp(lab.id));
      expect(existsSync(lab.images['debian-12/preinstalled'].root)).toBe(true);
    } finally {
      await down(lab.outDir);
    }
  }, 600_000);
});
