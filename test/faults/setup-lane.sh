#!/usr/bin/env bash
# Sets up the fault lane: libfiu's fiu-run and its POSIX preload library, from Debian's
# fiu-utils (which brings libfiu0: /usr/lib/fiu/fiu_posix_preload.so). Idempotent.
set -euo pipefail

say() { printf 'setup-lane: %s\n' "$*"; }

if ! command -v fiu-run >/dev/null || [ ! -f /usr/lib/fiu/fiu_posix_preload.so ]; then
  if [ "$(id -u)" != 0 ]; then
    say "fiu-run (libfiu) is missing; install it as root: apt-get install -y --no-install-recommends fiu-utils" >&2
    exit 1
  fi
  say "installing fiu-utils (libfiu) from Debian"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends fiu-utils >/dev/null
fi
