#!/usr/bin/env bash
# Sets up the load lane (run-lane.sh): Debian's stress-ng, which puts a bounded CPU load beside the
# suite. Installed with apt-get when missing (as root; CI runs as root). Idempotent.
set -euo pipefail

say() { printf 'load lane: %s\n' "$*"; }

if ! command -v stress-ng >/dev/null; then
  if [ "$(id -u)" != 0 ]; then
    say "stress-ng is missing; install it as root: apt-get install -y --no-install-recommends stress-ng" >&2
    exit 1
  fi
  say "installing stress-ng from Debian"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends stress-ng >/dev/null
fi
say "ready: $(stress-ng --version 2>&1 | head -n 1)"
