import type { ProgressCallback, WorkProgress } from '../host/types.js';

/** What a long step is doing: copying the backup, verifying Kmsdata against it, or moving entries aside. */
export type WorkActivity = 'copy' | 'verify' | 'clear';

/** Progress reaches the database (and the terminal line) at most this often, and at the end. */
export const PROGRESS_INTERVAL_MS = 300;

/**
 * Passes on the first report, then at most one per `intervalMs`, and always the last one (all
 * files done): the host calls after every file, the database sees a few writes a second.
 */
export function boundedRate(write: (progress: WorkProgress) => void, intervalMs: number = PROGRESS_INTERVAL_MS, now: () => number = Date.now): ProgressCallback {
  let lastAt: number | null = null;
  return (progress) => {
    const at = now();
    const finished = progress.filesDone >= progress.filesTotal;
    if (!finished && lastAt !== null && at - lastAt < intervalMs) return;
    lastAt = at;
    write({ filesDone: progress.filesDone, filesTotal: progress.filesTotal, bytesDone: progress.bytesDone, bytesTotal: progress.bytesTotal });
  };
}

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
  if (elapsedMs < 200 || progress.filesDone === 0) return { bytesPerSecond: null, remainingMs: null };
  const bytesPerSecond = progress.bytesDone > 0 ? (progress.bytesDone * 1000) / elapsedMs : null;
  const byBytes = activity !== 'clear' && progress.bytesTotal > 0 && progress.bytesDone > 0;
  const fraction = byBytes ? progress.bytesDone / progress.bytesTotal : progress.filesDone / Math.max(1, progress.filesTotal);
  const remainingMs = fraction >= 1 ? 0 : Math.round(elapsedMs * (1 - fraction) / fraction);
  return { bytesPerSecond, remainingMs };
}
