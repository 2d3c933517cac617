import type { EventRecord } from '../../persistence/index.js';

/** The n-th second after 2024-01-01 12:00 UTC, as the store writes times (ISO). */
export const at = (n: number) => new Date(Date.UTC(2024, 0, 1, 12, 0, n)).toISOString();

/**
 * An event log built in order, as the store would have written it: each `event` gets the next
 * seq (from 1) and a time one second after the previous one.
 */
export function eventLog(): (event: string, from: string | null, to: string, detail?: Record<string, unknown> | null) => EventRecord {
  let seq = 0;
  return (event, from, to, detail = null) => {
    seq += 1;
    return { seq, event, from, to, at: at(seq), detail };
  };
}
