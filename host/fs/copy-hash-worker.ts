/**
 * A copy worker (worker_threads) of restoreKmsdata: takes `CopyTask`s, copies and hashes each file
 * in one read pass (copyAndHashSync) and answers `{ index, ...CopyOutcome }`, one task at a time,
 * in the order received. Run from its compiled form, dist/host/fs/copy-hash-worker.js
 * (see copyWorkerPath in copy-pool.ts); it imports nothing but node built-ins and copy-hash.js.
 */
import { parentPort } from 'node:worker_threads';
import { COPY_BUFFER_BYTES, copyAndHashSync } from './copy-hash.js';
import type { CopyTask } from './copy-hash.js';

const port = parentPort;
if (port === null) throw new Error('copy-hash-worker must run as a worker thread');
const buf = Buffer.allocUnsafe(COPY_BUFFER_BYTES);
port.on('message', (task: CopyTask) => {
  port.postMessage({ index: task.index, ...copyAndHashSync(task.src, task.dst, buf) });
});
