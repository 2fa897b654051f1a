/**
 * Pure: the bash scripts that build an image, as text. Each runs under the cache lock in a
 * private mount namespace (mounts it makes vanish with it, also when it is killed), builds in
 * a fresh temporary directory beside the final one, writes image.json last and renames the
 * directory into place, so the final path only ever holds a complete image. Facts for the
 * report (times, versions, init scripts) go to image.json as strings.
 */
import { quote, sh } from '../shell/quote.js';
import { nginxPrefixConf, NGINX_PREFIX } from './nginx-prefix.js';
import {
  CACHE_VERSION,
  REPO_MOUNT,
  REPO_PACKAGES,
  buildSourcesList,
  debootstrapArgs,
  derivedPackages,
  hostSourcesList,
  imagePaths,
  type ImageKind,
  type ImageRef,
} from './image-plan.js';
import type { Mirror } from './mirror.js';

const TARGET = '\0target';
const ms = 'echo $(( ($(date +%s%N) - $1) / 1000000 ))';

/** Shared start: clear killed builds, stop if complete, remove a half-built final dir, make the temp dir. */
function prologue(ref: ImageRef): string[] {
  const p = imagePaths(ref);
  return [
    'set -euo pipefail',
    `final=${sh([p.dir])}`,
    'parent=$(dirname "$final")',
    `stale_glob="$parent/.build-${ref.kind}."`,
    `ms_since() { ${ms}; }`,
    'fact() { printf "%s=%s\\n" "$1" "$2" >> "$tmp/facts"; }',
    // Nothing is mounted under these in this namespace; --one-file-system keeps rm on this disk.
    'remove_tree() { rm -rf --one-file-system -- "$1"; }',
    'mkdir -p "$parent"',
    'for d in "$stale_glob"*; do [ -e "$d" ] || continue; echo "removing $d, left by an interrupted build"; remove_tree "$d"; done',
    'if [ -f "$final/image.json" ]; then echo "hactl-image: cached"; exit 0; fi',
    'if [ -e "$final" ]; then echo "removing $final: half-built (no image.json)"; remove_tree "$final"; fi',
    `tmp=$(mktemp -d "$stale_glob"XXXXXX)`,
    'chmod 0755 "$tmp"',
    'R="$tmp/root"',
    'started=$(date +%s%N)',
  ];
}

/** Shared end: the marker from the facts, then the atomic rename. */
function epilogue(ref: ImageRef): string[] {
  return [
    'fact build_ms "$(ms_since "$started")"',
    '{',
    `  printf '{"cacheVersion":"${CACHE_VERSION}","release":"${ref.release}","kind":"${ref.kind}","builtAt":"%s"' "$(date -u +%FT%TZ)"`,
    '  while IFS="=" read -r k v; do printf \',"%s":"%s"\' "$k" "${v//\\"/}"; done < "$tmp/facts"',
    "  printf '}\\n'",
    '} > "$tmp/image.json.new"',
    'sync -f "$tmp/image.json.new"',
    'mv "$tmp/image.json.new" "$tmp/image.json"',
    'mv -T "$tmp" "$final"',
    'echo "hactl-image: built"',
  ];
}

/** The root hosts see: apt has only the lab repository and empty lists; no host keys, no DNS. */
function hostView(): string[] {
  return [
    `printf %s ${sh([hostSourcesList()])} > "$R/etc/apt/sources.list"`,
    'rm -f "$R"/etc/apt/sources.list.d/*',
    'chroot "$R" apt-get clean',
    'rm -rf "$R"/var/lib/apt/lists/* && mkdir -p "$R/var/lib/apt/lists/partial"',
    'rm -f "$R"/etc/ssh/ssh_host_*',
    `mkdir -p "$R${REPO_MOUNT}"`,
    ': > "$R/etc/resolv.conf"',
  ];
}

export function baseBuildScript(ref: ImageRef, mirror: Mirror): string {
  const debs = REPO_PACKAGES;
  return [
    ...prologue(ref),
    `debootstrap ${debootstrapArgs(ref.release, TARGET, mirror)
      .map((a) => (a === TARGET ? '"$R"' : quote(a)))
      .join(' ')} > "$tmp/debootstrap.log" 2>&1 || { tail -n 30 "$tmp/debootstrap.log" >&2; exit 1; }`,
    'fact debootstrap_ms "$(ms_since "$started")"',
    'repo_started=$(date +%s%N)',
    `printf %s ${sh([buildSourcesList(ref.release, mirror)])} > "$R/etc/apt/sources.list"`,
    'rm -f "$R"/etc/apt/sources.list.d/*',
    // debootstrap leaves its own .debs: the repository gets only what this root lacks.
    'chroot "$R" apt-get clean',
    'chroot "$R" apt-get update -q',
    `chroot "$R" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --download-only --no-install-recommends ${sh(debs)}`,
    'mkdir "$tmp/repo" && mv "$R"/var/cache/apt/archives/*.deb "$tmp/repo/"',
    '(cd "$tmp/repo" && dpkg-scanpackages --multiversion . /dev/null > Packages 2>/dev/null && gzip -9k Packages && apt-ftparchive release . > Release)',
    'fact repo_ms "$(ms_since "$repo_started")"',
    ...hostView(),
    'fact openssh "$(chroot "$R" dpkg-query -W -f=\'${Version}\' openssh-server)"',
    ...debs.map((d) => `fact ${d} "$(dpkg-deb -f "$tmp"/repo/${d}_*.deb Version)"`),
    'fact repo_packages "$(ls "$tmp"/repo/*.deb | wc -l)"',
    'fact repo_bytes "$(du -sb "$tmp/repo" | cut -f1)"',
    'fact root_bytes "$(du -sb "$R" | cut -f1)"',
    ...epilogue(ref),
    '',
  ].join('\n');
}

/** Moves the release's nginx binary under its own prefix and removes every nginx package. */
function relocateNginx(): string[] {
  const p = NGINX_PREFIX;
  return [
    `install -D -m 0755 "$R/usr/sbin/nginx" "$R${p.binary}"`,
    `mkdir -p "$R${p.confDir}/conf.d" "$R${p.prefix}/logs" "$R${p.prefix}/temp" "$R${p.prefix}/html"`,
    `cp "$R/etc/nginx/mime.types" "$R${p.confDir}/mime.types"`,
    `printf %s ${sh([nginxPrefixConf()])} > "$R${p.confDir}/nginx.conf"`,
    `printf '%s\\n' '<h1>nginx under ${p.prefix}</h1>' > "$R${p.prefix}/html/index.html"`,
    'nginx_pkgs=$(chroot "$R" dpkg-query -W -f=\'${Package} ${db:Status-Status}\\n\' | awk \'$2 == "installed" && $1 ~ /^(nginx|libnginx-mod-)/ { print $1 }\')',
    'chroot "$R" env DEBIAN_FRONTEND=noninteractive dpkg --purge $nginx_pkgs',
    // The libraries nginx pulled in stay, as they would under a source build: not autoremovable.
    'new_auto=$(comm -13 "$tmp/auto.before" <(chroot "$R" apt-mark showauto | sort))',
    'if [ -n "$new_auto" ]; then chroot "$R" apt-mark manual $new_auto > /dev/null; fi',
    'rm -rf "$R/etc/nginx" "$R/etc/init.d/nginx"',
    `chroot "$R" ${sh([p.binary, '-t', '-p', `${p.prefix}/`, '-c', p.conf])}`,
    // -t creates the log and pid files: a fresh install has none.
    `rm -f "$R${p.prefix}"/logs/*`,
    'fact nginx_binary_version "$(chroot "$R" ' + sh([p.binary, '-v']) + ' 2>&1 | sed "s/.*nginx\\///")"',
  ];
}

export function derivedBuildScript(ref: ImageRef & { kind: Exclude<ImageKind, 'base'> }): string {
  const base = imagePaths({ release: ref.release, kind: 'base' });
  const pkgs = derivedPackages(ref.kind);
  const prefix = ref.kind === 'prefix' || ref.kind === 'prefix-preinstalled';
  return [
    ...prologue(ref),
    `base=${sh([base.dir])}`,
    '[ -f "$base/image.json" ] || { echo "the base image $base is not built" >&2; exit 1; }',
    'cp -a "$base/root" "$R"',
    `mount --bind "$base/repo" "$R${REPO_MOUNT}" && mount -o remount,bind,ro "$R${REPO_MOUNT}"`,
    'mount -t proc proc "$R/proc"',
    // Nothing may start in the build chroot (it would be a service of this machine).
    'printf "#!/bin/sh\\nexit 101\\n" > "$R/usr/sbin/policy-rc.d" && chmod 0755 "$R/usr/sbin/policy-rc.d"',
    'chroot "$R" apt-mark showauto | sort > "$tmp/auto.before"',
    'chroot "$R" apt-get update -q',
    `chroot "$R" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends ${sh(pkgs)}`,
    ...(prefix ? relocateNginx() : []),
    'rm -f "$R/usr/sbin/policy-rc.d"',
    `umount "$R/proc" "$R${REPO_MOUNT}"`,
    ...hostView(),
    'for s in keepalived nginx; do if [ -x "$R/etc/init.d/$s" ]; then fact "init_$s" yes; else fact "init_$s" no; fi; done',
    'for s in keepalived nginx; do fact "$s" "$(chroot "$R" dpkg-query -W -f=\'${Version}\' "$s" 2>/dev/null || true)"; done',
    'fact root_bytes "$(du -sb "$R" | cut -f1)"',
    ...epilogue(ref),
    '',
  ].join('\n');
}
