#!/usr/bin/env bash
# npm run test:load: the whole suite (vitest, as npm test runs it) while stress-ng keeps every CPU
# busy beside it, as on a shared, noisy machine. It must pass: a test that holds only on an idle
# machine is a flake that hides real failures. The load is bounded: one CPU worker per CPU, ended
# when the suite ends (and by its own timeout if this script is killed).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
started=$(date +%s)

"$ROOT/test/load/setup-lane.sh"
npm run build

CPUS="$(nproc)"
# The longest the load may last, whatever happens to this script (the suite takes minutes).
LOAD_BOUND_S=5400
stress-ng --cpu "$CPUS" --timeout "${LOAD_BOUND_S}s" --quiet &
stress=$!
# The load averages seen while the suite runs (1-minute), every 10 s, for the summary.
samples="$(mktemp)"
( while sleep 10; do cut -d' ' -f1 /proc/loadavg >>"$samples"; done ) &
sampler=$!
cleanup() {
  kill "$sampler" "$stress" 2>/dev/null || true
  wait "$stress" 2>/dev/null || true
  rm -f "$samples"
}
trap cleanup EXIT

printf 'load lane: stress-ng --cpu %s (pid %s) beside the suite on %s CPUs; load average at the start: %s\n' \
  "$CPUS" "$stress" "$CPUS" "$(cut -d' ' -f1-3 /proc/loadavg)"
set +e
npx vitest run "$@"
status=$?
set -e
peak=$(sort -n "$samples" | tail -n 1)
elapsed=$(( $(date +%s) - started ))
if [ "$status" != 0 ]; then
  printf '\nload lane FAILED (vitest exit %s) after %s s under stress-ng --cpu %s; load average peaked at %s\n' "$status" "$elapsed" "$CPUS" "${peak:-?}"
  exit "$status"
fi
printf '\nload lane passed in %s s under stress-ng --cpu %s on %s CPUs; load average peaked at %s (1-minute, sampled every 10 s)\n' \
  "$elapsed" "$CPUS" "$CPUS" "${peak:-?}"
