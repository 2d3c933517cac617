#!/usr/bin/env bash
# Installs Debian packages a test lane needs: apt-install.sh <who is asking> <package>... As root
# (CI runs as root) with apt-get; otherwise says what to run as root, and fails.
set -euo pipefail
who="$1"
shift
if [ "$(id -u)" != 0 ]; then
  printf '%s: %s missing; install as root: apt-get install -y --no-install-recommends %s\n' "$who" "$*" "$*" >&2
  exit 1
fi
printf '%s: installing %s from Debian\n' "$who" "$*"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "$@" >/dev/null
