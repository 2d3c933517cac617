#!/usr/bin/env bash
# npm run test:browser: the incident report in headless Chromium (test/browser/*.browser.ts):
# screenshots, PDFs on A4 and Letter, no network request, no text outside its box.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
"$ROOT/test/browser/setup-lane.sh"
cd "$ROOT"
npm run build --silent
npx vitest run --config test/browser/vitest.config.ts
