// 3. CLI cold start: `kms-recover status --json` on a small database (the compiled `bin`, plain
// node, no TypeScript loader) against `node -e 0`.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { interleave, row, run, table } from './measure.mjs';

const SAMPLES = 15;
export const BIN = fileURLToPath(new URL('../dist/cli/index.js', import.meta.url));

/** A small real database: one recovery on the simulator, driven to `running` by the CLI itself. */
export function smallDatabase(dir) {
  const db = path.join(dir, 'small.db');
  const sim = path.join(dir, 'sim');
  // --settle 0: the database is what is measured, not the start's 3 s settle window.
  run(process.execPath, [BIN, 'demo', '--dir', sim, '--db', db, '--settle', '0']);
  run(process.execPath, [BIN, 'sim', 'stop', sim]);
  return db;
}

export async function bench() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kms-bench-start-'));
  try {
    const db = smallDatabase(dir);
    const env = { ...process.env, KMS_RECOVER_DB: undefined };
    const times = await interleave({
      samples: SAMPLES,
      warmup: 2,
      sides: {
        status: () => run(process.execPath, [BIN, 'status', '--json', '--db', db], { env }),
        node: () => run(process.execPath, ['-e', '0'], { env }),
      },
    });
    return table('3. CLI cold start (process spawn to exit)', [
      row({ name: '`node dist/cli/index.js status --json` (1 run)', tool: times.status, baseline: times.node, baselineName: '`node -e 0`', target: 2.0 }),
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) console.log((await bench()).markdown);
