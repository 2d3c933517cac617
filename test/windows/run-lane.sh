#!/usr/bin/env bash
# npm run test:windows: the windows adapter against wine's real service control manager, in
# Windows node.exe, with the KMS stand-in service. Sets the lane up first (setup-lane.sh).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CACHE="$ROOT/.cache/windows-lane"
started=$(date +%s)

"$ROOT/test/windows/setup-lane.sh"

# Compile the contract, the lane and the code under test for node.exe, and run them with
# node:test. Not vitest: under node.exe it stops at startup, "Cannot find native binding"
# (rolldown's Windows binding is not what npm ci installs on Linux); measured 2026-12-01.
rm -rf "$CACHE/js"
(cd "$ROOT" && npx tsc -p test/windows/tsconfig.json)

export WINEPREFIX="$CACHE/prefix" WINEDEBUG=-all
winpath() { printf 'Z:%s' "${1//\//\\}"; }
OUT="$CACHE/lane-output.tap"
rm -f "$OUT" "$CACHE/work/standin.log"
# node.exe's stdout/stderr to a pipe fail under wine: to a file, stdin from /dev/null.
set +e
wine "$CACHE/node-win/node.exe" "$(winpath "$CACHE/js/test/windows/lane/contract-wine.js")" "$(winpath "$CACHE/work")" \
  >"$OUT" 2>&1 </dev/null
status=$?
set -e
# Leave the service stopped and wine's processes ended.
wine sc stop MSExchangeKMS >/dev/null 2>&1 || true
wineserver -k >/dev/null 2>&1 || true

tr -d '\r' <"$OUT" | grep -E '^(not ok|ok) |^# (note|tests|pass|fail)' || true
tests=$(tr -d '\r' <"$OUT" | sed -n 's/^# tests \([0-9]*\)$/\1/p')
pass=$(tr -d '\r' <"$OUT" | sed -n 's/^# pass \([0-9]*\)$/\1/p')
fail=$(tr -d '\r' <"$OUT" | sed -n 's/^# fail \([0-9]*\)$/\1/p')
elapsed=$(( $(date +%s) - started ))
if [ "$status" != 0 ] || [ -z "$tests" ] || [ "${fail:-1}" != 0 ] || [ "${tests:-0}" = 0 ]; then
  printf '\nwindows lane FAILED under %s (node.exe exit %s): %s tests, %s passed, %s failed; full output: %s\n' \
    "$(wine --version)" "$status" "${tests:-?}" "${pass:-?}" "${fail:-?}" "$OUT"
  tr -d '\r' <"$OUT" | tail -n 60
  [ -f "$CACHE/work/standin.log" ] && { echo '--- stand-in log:'; tail -n 20 "$CACHE/work/standin.log"; }
  exit 1
fi
printf '\nwindows lane passed under %s, Windows node.exe %s, real service control manager: %s tests, %s passed (%s s)\n' \
  "$(wine --version)" "$(cat "$CACHE/node-win/VERSION")" "$tests" "$pass" "$elapsed"
