/**
 * Times and durations as every screen prints them (status, history, list, watch, the diagram).
 * A screen prints each time without its offset and says once, in its header, which clock they
 * are on (`timesNote`); `--json` and the log keep ISO strings.
 */

import { localTime, utcOffset } from '../domain/moment.js';

export interface TimeOptions {
  /** Times in UTC instead of this machine's local time. */
  utc?: boolean;
}

export { localTime, momentWords, utcOffset } from '../domain/moment.js';

const two = (n: number) => String(n).padStart(2, '0');

/** A moment on a screen: `2026-12-01 10:02:03`, local (or with `utc`, in UTC); the header says which (`timesNote`). */
export function timeWords(iso: string, options: TimeOptions = {}): string {
  if (!options.utc) return localTime(iso);
  const d = new Date(iso);
  return `${d.getUTCFullYear()}-${two(d.getUTCMonth() + 1)}-${two(d.getUTCDate())} ${two(d.getUTCHours())}:${two(d.getUTCMinutes())}:${two(d.getUTCSeconds())}`;
}

/** What a screen's header says once of its times: `times are local, UTC+01:00` or `times are UTC` (the offset of `nowIso`). */
export function timesNote(options: TimeOptions = {}, nowIso: string = new Date().toISOString()): string {
  return options.utc ? 'times are UTC' : `times are local, ${utcOffset(nowIso)}`;
}

const unit = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

/** A measured duration as people say it: `less than a second`, `12 seconds`, `3 minutes 5 seconds`, `2 hours 7 minutes`. */
export function durationWords(ms: number): string {
  const s = Math.floor(Math.max(0, ms) / 1000);
  if (s < 1) return 'less than a second';
  if (s < 60) return unit(s, 'second');
  if (s < 3600) return [unit(Math.floor(s / 60), 'minute'), ...(s % 60 ? [unit(s % 60, 'second')] : [])].join(' ');
  const minutes = Math.floor((s % 3600) / 60);
  return [unit(Math.floor(s / 3600), 'hour'), ...(minutes ? [unit(minutes, 'minute')] : [])].join(' ');
}

/** `3 minutes ago`, `just now` (under a second): how long before `now` a moment was. */
export function agoWords(iso: string, now: number = Date.now()): string {
  const ms = now - Date.parse(iso);
  return ms < 1000 ? 'just now' : `${durationWords(ms)} ago`;
}

/** `1 s`, `0.25 s`, `90 s`: an exact time the operator set (a time limit, a settle window), as set; `digits`: to a tenth for a time measured. */
export function exactSeconds(ms: number, digits = 3): string {
  return `${Number((ms / 1000).toFixed(digits))} s`;
}
