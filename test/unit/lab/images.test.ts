import { pickMirror, parseDeb822, parseOneLine } from '../../../src/lab/mirror.js';
import {
  CACHE_VERSION,
  buildSourcesList,
  debootstrapArgs,
  hostSourcesList,
  imageKindFor,
  imagePaths,
} from '../../../src/lab/image-plan.js';
import { baseBuildScript, derivedBuildScript } from '../../../src/lab/image-scripts.js';
import { backendRelease, lbRelease, suiteOf } from '../../../src/lab/releases.js';
import { imageRefs } from '../../../src/lab/lab-images.js';
import { planLab } from '../../../src/lab/plan.js';
import { labUpReport } from '../../../src/lab/report.js';
import type { LabState } from '../../../src/lab/types.js';

const mirror = { archive: 'http://deb.example.org/debian', security: 'http://deb.example.org/debian-security' };

describe('releases', () => {
  test('each release maps to its Debian suite', () => {
    expect(['debian-11', 'debian-12', 'debian-13'].map((r) => suiteOf(r as 'debian-11'))).toEqual([
      'bullseye',
      'bookworm',
      'trixie',
    ]);
  });

  test('mixed: the load balancers of a cluster get 11, 13, 12, then again; backends get 12', () => {
    expect([0, 1, 2, 3].map((i) => lbRelease('mixed', i))).toEqual([
      'debian-11',
      'debian-13',
      'debian-12',
      'debian-11',
    ]);
    expect(lbRelease('debian-13', 1)).toBe('debian-13');
    expect(backendRelease('mixed')).toBe('debian-12');
    expect(backendRelease('debian-11')).toBe('debian-11');
  });
});

describe("the machine's mirror", () => {
  const deb822 = `Types: deb
# http://snapshot.debian.org/archive/debian/20250520T000000Z
URIs: http://deb.debian.org/debian/
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main

Types: deb
Enabled: no
URIs: http://elsewhere.example/debian
Suites: bookworm
`;

  test('deb822: archive and security URIs, disabled stanzas and comments ignored', () => {
    expect(pickMirror(parseDeb822(deb822))).toEqual({
      archive: 'http://deb.debian.org/debian',
      security: 'http://deb.debian.org/debian-security',
    });
  });

  test('one-line sources.list, with options and comments', () => {
    const text = `# deb http://commented.example/debian bookworm main
deb [arch=amd64] http://ftp.example.org/debian/ bookworm main
deb-src http://ftp.example.org/debian bookworm main
deb http://security.example.org/debian-security bookworm-security main
`;
    expect(pickMirror(parseOneLine(text))).toEqual({
      archive: 'http://ftp.example.org/debian',
      security: 'http://security.example.org/debian-security',
    });
  });

  test('no http mirror at all: undefined, so the caller can say how to set one', () => {
    expect(pickMirror(parseOneLine('deb file:/srv/repo ./\n'))).toBeUndefined();
  });
});

describe('image plan', () => {
  const env = process.env.HACTL_LAB_CACHE_DIR;
  beforeAll(() => delete process.env.HACTL_LAB_CACHE_DIR);
  afterAll(() => {
    if (env !== undefined) process.env.HACTL_LAB_CACHE_DIR = env;
  });

  test('cache paths are versioned, per release and kind; the repository belongs to the base image', () => {
    expect(imagePaths({ release: 'debian-12', kind: 'preinstalled' })).toEqual({
      dir: `/var/cache/hactl-lab/${CACHE_VERSION}/debian-12/preinstalled`,
      root: `/var/cache/hactl-lab/${CACHE_VERSION}/debian-12/preinstalled/root`,
      marker: `/var/cache/hactl-lab/${CACHE_VERSION}/debian-12/preinstalled/image.json`,
      repo: `/var/cache/hactl-lab/${CACHE_VERSION}/debian-12/base/repo`,
    });
  });

  test('build sources: the suite, its updates and security; host sources: only the lab repository', () => {
    expect(buildSourcesList('debian-11', mirror)).toBe(
      'deb http://deb.example.org/debian bullseye main\n' +
        'deb http://deb.example.org/debian bullseye-updates main\n' +
        'deb http://deb.example.org/debian-security bullseye-security main\n',
    );
    expect(buildSourcesList('debian-13', { archive: mirror.archive })).not.toMatch(/security/);
    const host = hostSourcesList()
      .split('\n')
      .filter((l) => l && !l.startsWith('#'));
    expect(host).toEqual(['deb [trusted=yes] file:/srv/hactl-lab-repo ./']);
  });

  test('debootstrap: minbase with what a cloud image has, from the mirror', () => {
    const args = debootstrapArgs('debian-13', '/tmp/x', mirror);
    expect(args.slice(0, 2)).toEqual(['--variant=minbase', '--components=main']);
    expect(args[2]).toMatch(/^--include=.*openssh-server.*iproute2.*sudo.*curl.*procps.*ca-certificates.*iptables/);
    expect(args.slice(3)).toEqual(['trixie', '/tmp/x', mirror.archive]);
  });

  test('which image a host boots', () => {
    expect(imageKindFor('lb', 'none', 'package')).toBe('base');
    expect(imageKindFor('lb', 'preinstalled', 'package')).toBe('preinstalled');
    expect(imageKindFor('lb', 'none', 'prefix')).toBe('prefix');
    expect(imageKindFor('lb', 'preinstalled', 'prefix')).toBe('prefix-preinstalled');
    expect(imageKindFor('backend', 'none', 'prefix')).toBe('preinstalled');
  });

  test('a mixed lab needs three base images and the backends preinstalled one, each once', () => {
    const plan = planLab(4, { clusters: 2, lbs: 3, backends: 2, dualMaster: false, os: 'mixed' });
    expect(imageRefs(plan).map((r) => `${r.release}/${r.kind}`)).toEqual([
      'debian-11/base',
      'debian-13/base',
      'debian-12/base',
      'debian-12/preinstalled',
    ]);
  });
});

describe('build scripts', () => {
  test('the marker is written last, inside the build directory, and then the directory is renamed into place', () => {
    for (const script of [
      baseBuildScript({ release: 'debian-12', kind: 'base' }, mirror),
      derivedBuildScript({ release: 'debian-12', kind: 'preinstalled' }),
    ]) {
      const lines = script.trim().split('\n');
      const marker = lines.findIndex((l) => l.includes('mv "$tmp/image.json.new" "$tmp/image.json"'));
      const rename = lines.findIndex((l) => l === 'mv -T "$tmp" "$final"');
      expect(marker).toBeGreaterThan(0);
      expect(rename).toBe(marker + 1);
      // A final directory without the marker is half-built and is removed, never used.
      expect(script).toMatch(/if \[ -f "\$final\/image.json" \]; then echo "hactl-image: cached"; exit 0; fi/);
      expect(script).toMatch(/half-built \(no image.json\)/);
      expect(script).toMatch(/left by an interrupted build/);
    }
  });

  test('base: the repository holds what the root lacks, and hosts get empty lists and no host keys', () => {
    const s = baseBuildScript({ release: 'debian-11', kind: 'base' }, mirror);
    expect(s.indexOf('apt-get clean')).toBeLessThan(s.indexOf('--download-only'));
    expect(s).toMatch(/--download-only --no-install-recommends keepalived nginx/);
    expect(s).toMatch(/dpkg-scanpackages/);
    expect(s).toMatch(/rm -rf "\$R"\/var\/lib\/apt\/lists\/\*/);
    expect(s).toMatch(/rm -f "\$R"\/etc\/ssh\/ssh_host_\*/);
    expect(s).toContain('debootstrap --variant=minbase');
    expect(s).toContain(' bullseye "$R" http://deb.example.org/debian ');
  });

  test('derived images never start a service in the build chroot', () => {
    const s = derivedBuildScript({ release: 'debian-13', kind: 'prefix' });
    expect(s.indexOf('policy-rc.d')).toBeLessThan(s.indexOf('apt-get install'));
    expect(s).toMatch(/--no-install-recommends nginx\n/);
    expect(s).toMatch(/dpkg --purge \$nginx_pkgs/);
    expect(s).toContain('/application/nginx/sbin/nginx -t -p /application/nginx/ -c /app/nginx/conf/nginx.conf');
  });
});

describe('what lab up prints', () => {
  test('each host with its addresses, release and image; each image from the cache or built, with versions', () => {
    const plan = planLab(3, { clusters: 1, lbs: 2, backends: 1, dualMaster: false, os: 'mixed', ipv6: true });
    const lab = {
      ...plan,
      hosts: plan.hosts.map((h) => ({ ...h, pid: 1, launcherPid: 1, hostKeys: [] })),
      outDir: '/tmp/l',
      files: { inventory: '/tmp/l/inventory.yaml', identity: '/tmp/l/id', knownHosts: '/tmp/l/kh', labJson: '' },
      timings: { totalMs: 2345 },
      images: {
        'debian-11/base': {
          root: '',
          repo: '',
          built: true,
          marker: { build_ms: '46708', openssh: '1:8.4p1-5', keepalived: '1:2.1.5', nginx: '1.18.0' },
        },
        'debian-12/preinstalled': { root: '', repo: '', built: false, marker: { builtAt: '2026-12-01T21:36:20Z' } },
      },
    } as unknown as LabState;
    const text = labUpReport(lab, 'hactl').join('\n');
    expect(text).toContain(
      'lab hactl3 up in 2.3 s: 3 hosts on 10.213.3.0/24 (this machine is 10.213.3.1) and fd00:213:3::/64',
    );
    expect(text).toMatch(/lb1 +lb +10\.213\.3\.11 +fd00:213:3::11 +debian-11 \(base\) lab1/);
    expect(text).toMatch(/lb2 +lb +10\.213\.3\.12 +fd00:213:3::12 +debian-13 \(base\) lab1/);
    expect(text).toMatch(/vip1v6 +vip +fd00:213:3::121\/64 +vrid 151, master lb1/);
    expect(text).toContain('built now in 46.7 s; OpenSSH 1:8.4p1-5, keepalived 1:2.1.5, nginx 1.18.0');
    expect(text).toContain('from the cache (built 2026-12-01T21:36:20Z)');
  });
});
