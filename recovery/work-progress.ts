import type { ProgressCallback, WorkProgress } from '../host/types.js';

/**
 * What a long step is doing: copying the backup, verifying Kmsdata against it, moving entries
 * aside, or watching the started KMS through its settle window (files: seconds watched of the window).
 */
export type WorkActivity = 'copy' | 'verify' | 'clear' | 'settle';

/** Progress reaches the database (and the terminal line) at most this often, and at the end. */
export const PROGRESS_INTERVAL_MS = 300;

/** Runs `fn` after `ms` without holding the process open; returns how to cancel it. */
export type Schedule = (fn: () => void, ms: number) => () => void;

const unrefTimer: Schedule = (fn, ms) => {
  const timer = setTimeout(fn, ms);
  timer.unref();
  return () => clearTimeout(timer);
};

/**
 * Passes on the first report, then at most one per `intervalMs`, and always the last one (all
 * files done): the host reports after every file and, within a large file, after every buffer
 * it copies or hashes; the database sees a few writes a second. A report held back is written
 * when its interval is over, so a long file after many short ones does not leave the count of
 * before it on the screen. When `signal` aborts (Ctrl-C, the time limit, the lease lost), the
 * report held back is written at once, so the run says how far it got, and nothing after it (the
 * attempt ended); a failing held-back write is dropped (progress is a view, never the run's truth).
 */
export function boundedRate(write: (progress: WorkProgress) => void, options: { intervalMs?: number; now?: () => number; schedule?: Schedule; signal?: AbortSignal } = {}): ProgressCallback {
  const intervalMs = options.intervalMs ?? PROGRESS_INTERVAL_MS;
  const now = options.now ?? Date.now;
  const schedule = options.schedule ?? unrefTimer;
  const { signal } = options;
  let lastAt: number | null = null;
  let held: WorkProgress | null = null;
  let cancel: (() => void) | null = null;
  const emit = (progress: WorkProgress, at: number): void => {
    cancel?.();
    cancel = null;
    held = null;
    lastAt = at;
    write(progress);
  };
  const flush = (): void => {
    if (!held) return;
    try {
      emit(held, now());
    } catch {
      // Dropped: the next report, or the step's own checkpoint, says where the work is.
    }
  };
  signal?.addEventListener('abort', flush, { once: true });
  return (progress) => {
    if (signal?.aborted) return;
    const at = now();
    const copy = { filesDone: progress.filesDone, filesTotal: progress.filesTotal, bytesDone: progress.bytesDone, bytesTotal: progress.bytesTotal };
    const finished = copy.filesDone >= copy.filesTotal;
    if (finished || lastAt === null || at - lastAt >= intervalMs) {
      emit(copy, at);
      return;
    }
    held = copy;
    cancel ??= schedule(() => {
      cancel = null;
      flush();
    }, intervalMs - (at - lastAt));
  };
}

/**
 * Work that wrote no progress for this long, while driven, has stalled (a disk that hangs, a
 * held file): the screens say since when instead of a time left that no longer moves. Moving
 * work writes its progress every PROGRESS_INTERVAL_MS, a buffer of a large file at a time.
 */
export const STALL_MS = 10_000;

export interface WorkRate {
  /** Bytes per second since the work began (null: too early to tell, or no bytes). */
  bytesPerSecond: number | null;
  /** Time left at that rate (null: unknown). */
  remainingMs: number | null;
}

/**
 * The rate since the work began and the time left at it. By bytes when the total is known, else
 * by files (the clear learns its bytes as it goes).
 */
export function workRate(progress: WorkProgress, elapsedMs: number, activity: WorkActivity): WorkRate {
  // The settle window is a countdown: what is left of it, whatever the rate.
  if (activity === 'settle') return { bytesPerSecond: null, remainingMs: Math.max(0, (progress.filesTotal - progress.filesDone) * 1000) };
  // A first large file moves before any file is done: its bytes count.
  if (elapsedMs < 200 || (progress.filesDone === 0 && progress.bytesDone === 0)) return { bytesPerSecond: null, remainingMs: null };
  const bytesPerSecond = progress.bytesDone > 0 ? (progress.bytesDone * 1000) / elapsedMs : null;
  const byBytes = activity !== 'clear' && progress.bytesTotal > 0 && progress.bytesDone > 0;
  const fraction = byBytes ? progress.bytesDone / progress.bytesTotal : progress.filesDone / Math.max(1, progress.filesTotal);
  if (fraction <= 0) return { bytesPerSecond, remainingMs: null };
  const remainingMs = fraction >= 1 ? 0 : Math.round(elapsedMs * (1 - fraction) / fraction);
  return { bytesPerSecond, remainingMs };
}
