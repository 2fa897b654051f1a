#!/usr/bin/env bash
# Everything hactl's tests and lab need on a fresh Debian 12 (or Ubuntu) machine, as root:
# the programs the lab hosts run and the validators, then the npm dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive
pkgs=(keepalived nginx openssh-server openssh-client iproute2 iptables curl sudo procps psmisc util-linux ca-certificates)
command -v node >/dev/null 2>&1 || pkgs+=(nodejs npm)
missing=()
for p in "${pkgs[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p"); done
if [ "${#missing[@]}" -gt 0 ]; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
npm ci --no-audit --no-fund --loglevel=error
npm run build --silent
