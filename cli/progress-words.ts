import type { WorkProgress } from '../host/types.js';
import type { WorkActivity, WorkRate } from '../recovery/work-progress.js';
import { durationWords } from '../present/time-words.js';
import { formatBytes } from '../present/byte-words.js';

/** What a long step is doing, in words: the terminal line, `status` and `watch` say the same. */
export const ACTIVITY_WORDS: Record<WorkActivity, { doing: string; unit: string }> = {
  copy: { doing: 'restoring from the backup', unit: 'files' },
  verify: { doing: 'verifying Kmsdata against the backup', unit: 'files' },
  clear: { doing: 'moving Kmsdata\'s entries into the quarantine', unit: 'top-level entries' },
  settle: { doing: 'watching the started KMS (settle window)', unit: 's' },
};

/**
 * `restoring from the backup: 120 of 308 files, 1.2 GB of 2.8 GB, 45.3 MB/s, about 35 s left`;
 * work that stalled (`stalledMs`, recovery/run-status.ts) says so instead of a rate and a time left
 * that no longer move: `..., 1.2 GB of 2.8 GB, no progress for 40 s`.
 */
export function progressWords(activity: WorkActivity, p: WorkProgress & { stalledMs?: number | null }, rate: WorkRate): string {
  const words = ACTIVITY_WORDS[activity];
  const stalled = p.stalledMs != null ? `no progress for ${durationWords(p.stalledMs)}` : null;
  if (activity === 'settle') {
    const left = stalled ? `, ${stalled}` : rate.remainingMs !== null ? `, ${durationWords(rate.remainingMs)} left` : '';
    return `${words.doing}: running for ${p.filesDone} of ${p.filesTotal} s${left}`;
  }
  const bytes = activity === 'clear' ? formatBytes(p.bytesDone) : `${formatBytes(p.bytesDone)} of ${formatBytes(p.bytesTotal)}`;
  const parts = [`${p.filesDone} of ${p.filesTotal} ${words.unit}`, bytes];
  if (stalled) parts.push(stalled);
  else {
    if (rate.bytesPerSecond !== null) parts.push(`${formatBytes(rate.bytesPerSecond)}/s`);
    if (rate.remainingMs !== null && p.filesDone < p.filesTotal) parts.push(`about ${durationWords(rate.remainingMs)} left`);
  }
  return `${words.doing}: ${parts.join(', ')}`;
}
