#!/usr/bin/env bash
# Sets up the browser lane from Debian's packages (as root; otherwise says what to install):
# headless Chromium, poppler's pdftotext and pdfinfo (to read the printed PDF), and a font.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
if ! command -v chromium >/dev/null || ! command -v pdftotext >/dev/null || ! command -v pdfinfo >/dev/null || ! fc-list 2>/dev/null | grep -qi dejavu; then
  "$ROOT/test/helpers/apt-install.sh" browser-lane chromium poppler-utils fonts-dejavu-core fontconfig
fi
printf 'browser-lane: %s, %s\n' "$(chromium --version 2>/dev/null)" "$(pdftotext -v 2>&1 | head -n 1)"
