#!/usr/bin/env bash
# Everything hactl's tests and lab need on a fresh Debian 12 (or Ubuntu) machine, as root:
# the validators (keepalived, nginx), what builds the lab's images (debootstrap, dpkg-dev and
# apt-utils for the package repository) and runs its hosts, then the npm dependencies.
# The lab's images themselves are built on demand by the first `hactl lab up` (about 50 s per
# release; `node bin/run.js lab build-images` builds them ahead), cached in /var/cache/hactl-lab.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
pkgs=(keepalived nginx openssh-server openssh-client iproute2 iptables curl sudo procps psmisc util-linux ca-certificates
  debootstrap dpkg-dev apt-utils)
command -v node >/dev/null 2>&1 || pkgs+=(nodejs npm)
missing=()
for p in "${pkgs[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p"); done
if [ "${#missing[@]}" -gt 0 ]; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
npm ci --no-audit --no-fund --loglevel=error
npm run build --silent
