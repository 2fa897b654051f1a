#!/usr/bin/env bash
# hactl's main job, end to end, on a lab built on this machine (Linux, root):
# lab up -> deploy -> deploy again (no-op) -> verify -> failover-test -> status -> lab down.
# The lab is removed however the script ends.
set -euo pipefail
cd "$(dirname "$0")/.."
hactl() { node bin/run.js "$@"; }
dir="${HACTL_DEMO_DIR:-/tmp/hactl-demo}"
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

if [ -f "$dir/lab.json" ]; then hactl lab down --dir "$dir" || true; fi
cleanup() { step "hactl lab down --dir $dir"; hactl lab down --dir "$dir"; }
trap cleanup EXIT

step "hactl lab up --dir $dir   (2 load balancers, 3 backends, one VIP; real sshd, keepalived, nginx)"
hactl lab up --dir "$dir"
inv="$dir/inventory.yaml"

step "the inventory the lab wrote (its VRRP password masked here: secrets never go to output)"
grep -v '^\s*#' "$inv" | sed -e '/^$/d' -E -e 's/(pass: *)[^ ,}]+/\1********/'

step "hactl deploy -i $inv --dry-run"
hactl deploy -i "$inv" --dry-run --no-diff

step "hactl deploy -i $inv --yes   (cold: packages, files, sysctl, services; rolling, backups first)"
hactl deploy -i "$inv" --yes

step "hactl deploy -i $inv --yes   (again: nothing to change)"
hactl deploy -i "$inv" --yes

step "hactl verify -i $inv"
hactl verify -i "$inv"

step "hactl failover-test -i $inv --fault all --yes   (break the master, measure, restore)"
hactl failover-test -i "$inv" --fault all --yes

step "hactl status -i $inv"
hactl status -i "$inv"
