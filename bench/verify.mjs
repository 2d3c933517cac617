// 5. Verify before start: the full check of Kmsdata against the backup's manifest (every file's
// size and SHA-256) that runs before the alpha string is given and before the service starts,
// against `sha256sum` of the same files.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { fsKmsdataOperations } from '../dist/host/fs/index.js';
import { buildManifest } from '../dist/host/fs/manifest.js';
import { interleave, row, run, table } from './measure.mjs';
import { generateTree } from './restore.mjs';

const SAMPLES = 5;

export async function bench() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kms-bench-verify-'));
  try {
    const kmsdata = path.join(dir, 'Exchsrvr', 'Kmsdata');
    mkdirSync(kmsdata, { recursive: true });
    const files = generateTree(kmsdata);
    const manifest = await buildManifest(kmsdata);
    run('sync', []);
    const times = await interleave({
      samples: SAMPLES,
      sides: {
        tool: async () => {
          const report = await fsKmsdataOperations.verifyKmsdata(kmsdata, manifest);
          if (!report.matches) throw new Error('verify found differences in an unchanged tree');
        },
        sha256sum: () => run('sh', ['-c', 'find "$1" -type f -exec sha256sum {} + > /dev/null', 'sh', kmsdata]),
      },
    });
    const mib = Math.round(manifest.totalBytes / 1024 / 1024);
    return table(`5. Verify before start (${files.length} files, ${mib} MiB, in the page cache)`, [
      row({ name: 'verifyKmsdata() (sizes + SHA-256 of every file)', tool: times.tool, baseline: times.sha256sum, baselineName: '`sha256sum` of every file', target: 1.1 }),
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) console.log((await bench()).markdown);
