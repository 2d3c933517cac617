#!/usr/bin/env bash
# Sets up the load lane (run-lane.sh): Debian's stress-ng, which puts a bounded CPU load beside the
# suite; installed with apt-get when missing (as root; CI runs as root). Idempotent.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
command -v stress-ng >/dev/null || "$ROOT/test/helpers/apt-install.sh" 'load lane' stress-ng
printf 'load lane: ready: %s\n' "$(stress-ng --version 2>&1 | head -n 1)"
