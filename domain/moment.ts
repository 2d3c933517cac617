/**
 * A moment as a person reads it, on this machine's clock. Here rather than in present/ because
 * the refusals of persistence/ name moments too (who holds a run, since when); present/time-words.ts
 * gives every screen these words.
 */

const two = (n: number) => String(n).padStart(2, '0');

/** `2026-12-01 10:02:03` in this machine's local time. */
export function localTime(iso: string): string {
  const d = new Date(iso);
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

/** The local time's offset at that moment: `UTC+01:00`, `UTC-05:00`, `UTC+00:00`. */
export function utcOffset(iso: string): string {
  const minutes = -new Date(iso).getTimezoneOffset();
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  return `UTC${sign}${two(Math.floor(abs / 60))}:${two(abs % 60)}`;
}

/**
 * One moment in a sentence that has no header of its own (an error line, a stored instruction
 * read later): local time with its offset, `2026-12-01 10:02:03 UTC+01:00`.
 */
export function momentWords(iso: string): string {
  return `${localTime(iso)} ${utcOffset(iso)}`;
}
