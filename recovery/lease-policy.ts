import { holderProcess } from '../host/process-identity.js';
import type { LeaseRecord } from '../persistence/index.js';

/** Default: a lease whose heartbeat is older than this is stale (its holder beats every 2 s). */
const DEFAULT_STALE_AFTER_MS = 60_000;

let staleAfterMs = DEFAULT_STALE_AFTER_MS;

/**
 * Sets how long a silent lease holder is presumed alive, from `KMS_RECOVER_LEASE_STALE_SECONDS`
 * as the CLI reads it (at least 10 s), for a site whose network pauses longer, and for the tests.
 * Anything else keeps the default.
 */
export function configureLeaseStaleness(seconds: string | undefined): void {
  const value = Number(seconds);
  staleAfterMs = seconds !== undefined && Number.isFinite(value) && value >= 10 ? Math.round(value * 1000) : DEFAULT_STALE_AFTER_MS;
}

/** How long a silent lease holder is presumed alive. */
export function leaseStaleAfterMs(): number {
  return staleAfterMs;
}

/**
 * The one liveness rule, for `status`, `list`, `watch`, `resume`, `takeover`, `abandon` and the
 * history's words:
 * - `dead`: its process is gone (only this machine's processes can be seen to be gone);
 * - `alive`: its process runs (or cannot be seen: another machine) and its heartbeat is fresh;
 * - `unresponsive`: its process runs, or cannot be seen, but it has not beaten its heartbeat for
 *   the stale period: stopped (SIGSTOP, a sleeping laptop), hung, or on another machine that
 *   is gone or cut off. Only the operator can decide (`takeover`), never a command by itself.
 * A heartbeat from the future (the holder's clock ahead of ours) is fresh.
 */
export type Liveness = 'alive' | 'unresponsive' | 'dead';

export interface LivenessVerdict {
  liveness: Liveness;
  /** Milliseconds since its last heartbeat, by this machine's clock (0 when it lies in the future). */
  silentMs: number;
  /** Whether its process could be looked at (it runs on this machine). */
  seen: boolean;
}

export function livenessOf(holder: LeaseRecord, now: number = Date.now()): LivenessVerdict {
  const process = holderProcess(holder);
  const silentMs = Math.max(0, now - Date.parse(holder.heartbeatAt));
  const seen = process !== 'unknown';
  if (process === 'gone') return { liveness: 'dead', silentMs, seen };
  return { liveness: silentMs > leaseStaleAfterMs() ? 'unresponsive' : 'alive', silentMs, seen };
}

/** Whether the holder may still act: alive or unresponsive (a lease is taken from it only when dead, or by `takeover`). */
export function holderIsAlive(holder: LeaseRecord): boolean {
  return livenessOf(holder).liveness !== 'dead';
}

/** `pid 4242 on KMS01 is alive but unresponsive: no heartbeat for 75 s`: how every screen says it. */
export function livenessWords(holder: LeaseRecord, verdict: LivenessVerdict): string {
  const who = `pid ${holder.pid} on ${holder.host}`;
  const silent = `${Math.round(verdict.silentMs / 1000)} s`;
  switch (verdict.liveness) {
    case 'dead': return `${who} is gone`;
    case 'alive': return `${who} is alive`;
    case 'unresponsive': return verdict.seen
      ? `${who} is alive but unresponsive: no heartbeat for ${silent} (stopped, e.g. by SIGSTOP, or hung)`
      : `${who} is unresponsive: no heartbeat for ${silent} (that machine may be gone, cut off, or its clock differs from this one's)`;
  }
}

export type DriverView =
  | { kind: 'nobody' }
  | { kind: 'live'; lease: LeaseRecord }
  | { kind: 'dead'; lease: LeaseRecord }
  /** Unresponsive (livenessOf): the JSON keeps the word it always had, `silent`. */
  | { kind: 'silent'; lease: LeaseRecord; silentMs: number; seen: boolean };

/** Who drives a run, by the liveness rule: nobody, a live holder, a dead one, or an unresponsive one (`silent`). */
export function driverOf(lease: LeaseRecord | null, now: number = Date.now()): DriverView {
  if (!lease) return { kind: 'nobody' };
  const verdict = livenessOf(lease, now);
  switch (verdict.liveness) {
    case 'dead': return { kind: 'dead', lease };
    case 'alive': return { kind: 'live', lease };
    case 'unresponsive': return { kind: 'silent', lease, silentMs: verdict.silentMs, seen: verdict.seen };
  }
}

/**
 * Before a takeover acts on `unresponsive`: the heartbeat is watched for a little longer than
 * its period. One that moves is alive whatever the clocks say (a machine whose clock is hours
 * off makes a live holder's heartbeat look old); `read` returns the lease as stored now.
 */
export async function heartbeatMoves(read: () => LeaseRecord | null, holder: LeaseRecord, watchMs = HEARTBEAT_WATCH_MS): Promise<boolean> {
  await new Promise((resolve) => setTimeout(resolve, watchMs));
  const now = read();
  return now !== null && now.generation === holder.generation && now.heartbeatAt !== holder.heartbeatAt;
}

/** How often a driver beats its lease's heartbeat (drive-lease.ts). */
export const HEARTBEAT_MS = 2000;
/** Two periods and a half: a live driver beats at least once even with its event loop busy for a while. */
export const HEARTBEAT_WATCH_MS = 2 * HEARTBEAT_MS + 500;
