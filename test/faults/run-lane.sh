#!/usr/bin/env bash
# npm run test:faults: `kms-recover start` on simulated servers with EIO injected by libfiu into
# its pwrite, fsync/fdatasync and rename calls, each followed by a resume without faults
# (test/faults/io-faults.lane.ts). KMS_RECOVER_FAULT_TRIALS (default 20) and
# KMS_RECOVER_FAULT_SEED (replays a campaign; the seed is printed) set the campaign.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
"$ROOT/test/faults/setup-lane.sh"
cd "$ROOT"
npm run build --silent
npx vitest run --config test/faults/vitest.config.ts
