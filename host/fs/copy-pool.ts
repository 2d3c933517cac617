/**
 * Copies a list of files with SHA-256 in one read pass each, on several cores: a small pool of
 * worker threads (copy-hash-worker.ts) each copies and hashes whole files, while the main thread
 * hands out files in list order and passes the outcomes to `handle` strictly in list order.
 *
 * - Until a worker is running (a worker takes ~40 ms to start) and whenever none is left (a worker
 *   that died, or no compiled worker), the main thread copies files itself with the same loop
 *   (copyAndHash), so the workers never cost a restore time and never make it fail.
 * - `handle(index, outcome)` is awaited before the next index is handed over; when it throws (a
 *   mismatch, a failed hook), or a copy fails, no further file is started, the files being copied
 *   are finished (so that no thread still writes into the destination when the caller cleans up)
 *   and the error is rethrown.
 * - A file that a dying worker was copying is copied again on the main thread, after removing
 *   whatever the worker left of its destination.
 */
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { packageRoot } from '../sim/daemon-entry.js';
import { COPY_BUFFER_BYTES, copyAndHash } from './copy-hash.js';
import type { CopyOutcome, CopyTask } from './copy-hash.js';

/** More threads than this only contend for the same disk. */
const MAX_THREADS = 4;
/** Below this many bytes in all, starting workers costs more CPU than it saves. */
const MIN_PARALLEL_BYTES = 8 * 1024 * 1024;
/** Tasks queued per worker, so that a worker never waits for the main thread between files. */
const WORKER_DEPTH = 2;

/**
 * The compiled worker, `<pkgroot>/dist/host/fs/copy-hash-worker.js`, found like the simulator
 * daemon (host/sim/daemon-entry.ts), so that it is the same file whether this module runs compiled
 * or from its TypeScript source (vitest). Undefined when it is not built.
 */
export function copyWorkerPath(): string | undefined {
  try {
    const file = path.join(packageRoot(), 'dist', 'host', 'fs', 'copy-hash-worker.js');
    return existsSync(file) ? file : undefined;
  } catch {
    return undefined;
  }
}

/** How many copy workers a copy of `totalBytes` should use by default: 0 means in-thread only. */
export function defaultCopyThreads(totalBytes: number): number {
  if (totalBytes < MIN_PARALLEL_BYTES) return 0;
  const cores = os.availableParallelism();
  return cores < 2 ? 0 : Math.min(MAX_THREADS, cores);
}

export interface CopyFilesOptions {
  /** Worker threads to start (0: copy on the main thread only). */
  threads: number;
  /** Called with every outcome, in list order, one at a time; a throw stops the copy. */
  handle: (index: number, outcome: CopyOutcome) => void | Promise<void>;
  /** Told how many workers actually ran files (for tests). */
  onWorkersUsed?: (count: number) => void;
}

type Reply = CopyOutcome & { index: number };

/** Copies `files[i].src` to `files[i].dst` for every i; resolves once every outcome was handled. */
export async function copyFiles(files: readonly Omit<CopyTask, 'index'>[], options: CopyFilesOptions): Promise<void> {
  const count = files.length;
  const outcomes: (CopyOutcome | undefined)[] = new Array<CopyOutcome | undefined>(count);
  let next = 0; // next file to hand out
  let halted = false; // no new file is started (a failure, or done)
  const retries: number[] = []; // files a dead worker left half done, for the main thread
  let online = 0; // workers running and taking files
  let starting = 0; // workers not yet running
  const workersUsed = new Set<Worker>();

  let wake: () => void = () => undefined;
  let event = new Promise<void>((resolve) => { wake = resolve; });
  const notify = (): void => {
    const resolve = wake;
    event = new Promise<void>((r) => { wake = r; });
    resolve();
  };

  const record = (index: number, outcome: CopyOutcome): void => {
    outcomes[index] = outcome;
    if (!outcome.ok) halted = true;
    notify();
  };

  // Workers: each keeps up to WORKER_DEPTH files queued and answers them in order.
  const workerFile = options.threads > 0 && count > 1 ? copyWorkerPath() : undefined;
  const workers: { worker: Worker; inflight: number[]; exited: Promise<void> }[] = [];
  if (workerFile !== undefined) {
    for (let i = 0; i < Math.min(options.threads, count); i += 1) {
      const worker = new Worker(workerFile);
      starting += 1;
      const inflight: number[] = [];
      const fill = (): void => {
        while (!halted && inflight.length < WORKER_DEPTH && next < count) {
          const index = next++;
          inflight.push(index);
          workersUsed.add(worker);
          worker.postMessage({ index, ...files[index]! } satisfies CopyTask);
        }
      };
      const exited = new Promise<void>((resolve) => {
        let running = false;
        worker.once('online', () => {
          running = true;
          starting -= 1;
          online += 1;
          fill();
          notify();
        });
        worker.on('message', (reply: Reply) => {
          inflight.shift();
          record(reply.index, reply);
          fill();
        });
        worker.on('error', () => { /* followed by 'exit': its files go to the main thread */ });
        worker.once('exit', () => {
          if (running) online -= 1; else starting -= 1;
          retries.push(...inflight.splice(0));
          notify();
          resolve();
        });
      });
      workers.push({ worker, inflight, exited });
    }
  }

  // The main thread copies while no worker is running (before they start, or if none is left),
  // and redoes the files of a worker that died.
  let finished = false;
  const mainThread = (async (): Promise<void> => {
    const buf = Buffer.allocUnsafe(COPY_BUFFER_BYTES);
    while (!finished) {
      let index: number | undefined;
      let retry = false;
      if (retries.length > 0) {
        index = retries.shift()!;
        retry = true;
      } else if (!halted && online === 0 && next < count) {
        index = next++;
      }
      if (index === undefined) {
        await event;
        continue;
      }
      const file = files[index]!;
      if (retry) await rm(file.dst, { force: true }).catch(() => undefined);
      let outcome: CopyOutcome;
      try {
        outcome = await copyAndHash(file.src, file.dst, buf);
      } catch (error) {
        outcome = { ok: false, kind: 'write', message: String(error) };
      }
      record(index, outcome);
    }
  })();

  let failure: { error: unknown } | undefined;
  try {
    for (let index = 0; index < count; index += 1) {
      while (outcomes[index] === undefined) await event;
      await options.handle(index, outcomes[index]!);
      outcomes[index] = undefined; // nothing more to keep
    }
  } catch (error) {
    failure = { error };
  }

  // Stop handing out files, let the files in progress finish, then stop the workers.
  halted = true;
  finished = true;
  notify();
  await mainThread;
  // A worker is idle once it has answered every file handed to it (or has exited): only then is
  // it terminated, so that no write into the destination is cut short.
  await Promise.all(workers.map(async ({ worker, inflight, exited }) => {
    let gone = false;
    void exited.then(() => { gone = true; });
    while (inflight.length > 0 && !gone) await Promise.race([event, exited]);
    await worker.terminate();
  }));
  options.onWorkersUsed?.(workersUsed.size);
  if (failure) throw failure.error;
}
