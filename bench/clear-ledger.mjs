// 6. The clear with its ledger: 1,000 entries of a reinstall's Kmsdata moved into the quarantine,
// each described (kind, size, SHA-256) and recorded in SQLite first, from inside the pinned
// folder, the folders flushed; against its floor: `sha256sum` of the same entries, their `mv`, then
// one `sync` (the clear hashes every entry for its ledger, moves it and makes the moves durable).
// The old baseline, `mv` + `sync` without the hash, is kept for information.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { clearKmsdata } from '../dist/host/fs/clear-kmsdata.js';
import { folderIdentity } from '../dist/host/fs/pinned-folder.js';
import { FencedRun, openDatabase, RunStore } from '../dist/persistence/index.js';
import { realisticSnapshot } from './checkpoint.mjs';
import { interleave, row, run, table } from './measure.mjs';

const SAMPLES = 7;
const ENTRIES = 1000;

/** A fresh reinstall's Kmsdata: small files (a new KMS database, logs, keys), a few folders. */
function fillKmsdata(kmsdata) {
  mkdirSync(kmsdata, { recursive: true });
  for (let i = 0; i < ENTRIES; i += 1) {
    if (i % 100 === 99) {
      mkdirSync(path.join(kmsdata, `dir-${i}`));
      writeFileSync(path.join(kmsdata, `dir-${i}`, 'inner.key'), Buffer.alloc(2048, i % 251));
    } else {
      writeFileSync(path.join(kmsdata, `entry-${String(i).padStart(4, '0')}.dat`), Buffer.alloc(4096, i % 251));
    }
  }
}

export async function bench() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'kms-bench-clear-'));
  try {
    const exchsrvr = path.join(dir, 'Exchsrvr');
    const kmsdata = path.join(exchsrvr, 'Kmsdata');
    const mvRoot = path.join(dir, 'mv');
    const { db } = openDatabase(path.join(dir, 'ledger.db'));
    const store = new RunStore(db);
    let sample = 0;
    let runId = '';
    const times = await interleave({
      samples: SAMPLES,
      before: (side) => {
        rmSync(exchsrvr, { recursive: true, force: true });
        rmSync(mvRoot, { recursive: true, force: true });
        if (side === 'tool') {
          fillKmsdata(kmsdata);
          runId = (0x20000000 + sample++).toString(16);
          store.createRun({
            id: runId, host: 'KMS01', machineVersion: 3, definitionHash: 'f'.repeat(16), adapter: 'sim', adapterConfig: {},
            state: 'stopped', phase: 'working', snapshot: realisticSnapshot(), serverKey: null, params: { serviceName: 'MSExchangeKMS', kmsdata: 'C:\\Exchsrvr\\Kmsdata', backup: 'D:\\backup\\Kmsdata' }, claim: { claim: 'C:\\Exchsrvr\\kms-recover.claim', recoveredBefore: null },
            manifest: { files: [], dirs: [], fileCount: 0, totalBytes: 0, digest: '' },
          });
        } else {
          fillKmsdata(path.join(mvRoot, 'Kmsdata'));
          mkdirSync(path.join(mvRoot, 'quarantine'));
        }
        run('sync', []);
      },
      sides: {
        tool: async () => {
          const report = await clearKmsdata(kmsdata, runId, {
            expected: await folderIdentity(kmsdata), record: (entries) => new FencedRun(store, runId, 0).recordQuarantined(entries),
          });
          if (report.removed !== ENTRIES || report.remaining !== 0) throw new Error(`the clear moved ${report.removed} of ${ENTRIES}`);
        },
        mvSync: () => run('sh', ['-c', 'cd "$1/Kmsdata" && mv -- * ../quarantine/ && sync', 'sh', mvRoot]),
        // The hash reads the files where they are, then moves them: the ledger's order.
        floor: () => run('sh', ['-c', 'cd "$1/Kmsdata" && find . -type f -exec sha256sum {} + > /dev/null && mv -- * ../quarantine/ && sync', 'sh', mvRoot]),
      },
    });
    db.close();
    return table(`6. The clear with its ledger (${ENTRIES} entries: ${ENTRIES - ENTRIES / 100} files of 4 KiB, ${ENTRIES / 100} folders)`, [
      row({
        name: 'clearKmsdata() with the SQLite ledger, pinned, flushed', tool: times.tool, baseline: times.floor,
        baselineName: '`sha256sum` of every file of the entries + `mv` of the entries + `sync`', target: 1.2,
        note: 'floor: what the clear cannot skip: read and hash every entry (the ledger holds each one\'s SHA-256), move it, flush',
      }),
      row({ name: 'clearKmsdata() (informational)', tool: times.tool, baseline: times.mvSync, baselineName: '`mv` of the entries, then `sync` (no hash)' }),
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) console.log((await bench()).markdown);
