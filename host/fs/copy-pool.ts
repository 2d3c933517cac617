/**
 * Copies a list of files with SHA-256 in one read pass each, on several cores: a small pool of
 * worker threads (copy-hash-worker.ts) each copies and hashes whole files, while the main thread
 * hands out files in list order and passes the outcomes to `handle` strictly in list order
 * (CopyPool: started early, `copy()` once, `close()` always).
 *
 * - Until a worker is running (a worker takes ~40 ms to start) and whenever none is left (a worker
 *   that died, or no compiled worker), the main thread copies files itself with the same loop
 *   (copyAndHash), so the workers never cost a restore time and never make it fail.
 * - `handle(index, outcome)` is awaited before the next outcome is handled; when it throws (a
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
  /** Called with every outcome, in list order, one at a time; a throw stops the copy. */
  handle: (index: number, outcome: CopyOutcome) => void | Promise<void>;
}

type Reply = CopyOutcome & { index: number };

interface PoolWorker {
  worker: Worker;
  /** Indexes handed to it and not answered yet, oldest first (it answers in order). */
  inflight: number[];
  running: boolean;
  exited: Promise<void>;
  gone: boolean;
}

/** One copy at a time: the files, their outcomes, and what is handed out. */
interface Job {
  files: readonly Omit<CopyTask, 'index'>[];
  outcomes: (CopyOutcome | undefined)[];
  next: number;
  /** No new file is started (a failure, or the end). */
  halted: boolean;
  /** Files a dead worker left half done, for the main thread to redo. */
  retries: number[];
}

/**
 * The copy workers. Started (`CopyPool.start`) before the checks that precede a copy, so that they
 * are running by the time it begins; `copy()` then hands them the files; `close()` (always, in a
 * finally) stops them once they are idle.
 */
export class CopyPool {
  private readonly workers: PoolWorker[] = [];
  private job: Job | undefined;
  private wake: () => void = () => undefined;
  private event: Promise<void> = new Promise<void>((resolve) => { this.wake = resolve; });
  private readonly used = new Set<Worker>();

  private constructor(workerFile: string | undefined, threads: number) {
    if (workerFile === undefined) return;
    for (let i = 0; i < threads; i += 1) this.spawn(workerFile);
  }

  /** Starts `threads` workers (none when 0, or when the compiled worker is missing). */
  static start(threads: number): CopyPool {
    return new CopyPool(threads > 0 ? copyWorkerPath() : undefined, threads);
  }

  /** How many workers copied at least one file. */
  get workersUsed(): number {
    return this.used.size;
  }

  private notify(): void {
    const resolve = this.wake;
    this.event = new Promise<void>((r) => { this.wake = r; });
    resolve();
  }

  private get online(): number {
    return this.workers.filter((w) => w.running && !w.gone).length;
  }

  private record(index: number, outcome: CopyOutcome): void {
    const job = this.job;
    if (job === undefined) return;
    job.outcomes[index] = outcome;
    if (!outcome.ok) job.halted = true;
    this.notify();
  }

  private fill(w: PoolWorker): void {
    const job = this.job;
    if (job === undefined || !w.running || w.gone) return;
    while (!job.halted && w.inflight.length < WORKER_DEPTH && job.next < job.files.length) {
      const index = job.next++;
      w.inflight.push(index);
      this.used.add(w.worker);
      w.worker.postMessage({ index, ...job.files[index]! } satisfies CopyTask);
    }
  }

  private spawn(workerFile: string): void {
    const worker = new Worker(workerFile);
    const w: PoolWorker = { worker, inflight: [], running: false, gone: false, exited: Promise.resolve() };
    w.exited = new Promise<void>((resolve) => {
      worker.once('online', () => {
        w.running = true;
        this.fill(w);
        this.notify();
      });
      worker.on('message', (reply: Reply) => {
        w.inflight.shift();
        this.record(reply.index, reply);
        this.fill(w);
      });
      worker.on('error', () => { /* followed by 'exit': its files go to the main thread */ });
      worker.once('exit', () => {
        w.gone = true;
        this.job?.retries.push(...w.inflight.splice(0));
        this.notify();
        resolve();
      });
    });
    this.workers.push(w);
  }

  /** Copies `files[i].src` to `files[i].dst` for every i; resolves once every outcome was handled. */
  async copy(files: readonly Omit<CopyTask, 'index'>[], options: CopyFilesOptions): Promise<void> {
    if (this.job !== undefined) throw new Error('CopyPool.copy: one copy at a time');
    const job: Job = { files, outcomes: new Array<CopyOutcome | undefined>(files.length), next: 0, halted: false, retries: [] };
    this.job = job;
    for (const w of this.workers) this.fill(w);

    // The main thread copies while no worker is running (before they start, or if none is left),
    // and redoes the files of a worker that died.
    let finished = false;
    const mainThread = (async (): Promise<void> => {
      const buf = Buffer.allocUnsafe(COPY_BUFFER_BYTES);
      while (!finished) {
        let index: number | undefined;
        let retry = false;
        if (job.retries.length > 0) {
          index = job.retries.shift()!;
          retry = true;
        } else if (!job.halted && this.online === 0 && job.next < files.length) {
          index = job.next++;
        }
        if (index === undefined) {
          await this.event;
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
        this.record(index, outcome);
      }
    })();

    let failure: { error: unknown } | undefined;
    try {
      for (let index = 0; index < files.length; index += 1) {
        while (job.outcomes[index] === undefined) await this.event;
        await options.handle(index, job.outcomes[index]!);
        job.outcomes[index] = undefined; // nothing more to keep
      }
    } catch (error) {
      failure = { error };
    }

    // Stop handing out files and let the files in progress finish: when copy() returns, no thread
    // writes into the destination any more.
    job.halted = true;
    finished = true;
    this.notify();
    await mainThread;
    await Promise.all(this.workers.map(async (w) => {
      while (w.inflight.length > 0 && !w.gone) await Promise.race([this.event, w.exited]);
    }));
    this.job = undefined;
    if (failure) throw failure.error;
  }

  /** Stops the workers (idle ones; call it after copy() has returned, or instead of it). */
  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.worker.terminate()));
  }
}
