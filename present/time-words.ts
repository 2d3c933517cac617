/** Times and durations as every screen prints them (status, history, watch, the diagram). */

/** `2026-12-01 10:02:03` in this machine's local time. */
export function localTime(iso: string): string {
  const d = new Date(iso);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}

/** The local time's offset at that moment: `UTC+01:00`, `UTC-05:00`, `UTC+00:00`. */
export function utcOffset(iso: string): string {
  const minutes = -new Date(iso).getTimezoneOffset();
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  return `UTC${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
}

/**
 * A moment for a person: local time with its offset (`2026-12-01 10:02:03 UTC+01:00`), or with
 * `utc` the same in UTC (`2026-12-01 09:02:03 UTC`). JSON keeps the ISO string.
 */
export function timeWords(iso: string, options: { utc?: boolean } = {}): string {
  if (options.utc) return `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC`;
  return `${localTime(iso)} ${utcOffset(iso)}`;
}

/** `850 ms`, `12.4 s`, `3 min 05 s`, `2 h 07 min`. */
export function durationWords(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`;
}

/** `1 s`, `0.25 s`, `90 s`: an exact time the operator set (a time limit, a settle window), as set; `digits`: to a tenth for a time measured. */
export function exactSeconds(ms: number, digits = 3): string {
  return `${Number((ms / 1000).toFixed(digits))} s`;
}
