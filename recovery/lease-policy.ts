import { isLeaseHolderAlive } from '../host/process-identity.js';
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

/** The liveness every command uses: pid and process start time on this host, heartbeat age where the OS says nothing. */
export function holderIsAlive(holder: LeaseRecord): boolean {
  return isLeaseHolderAlive(holder, leaseStaleAfterMs());
}

export type DriverView =
  | { kind: 'nobody' }
  | { kind: 'live'; lease: LeaseRecord }
  | { kind: 'dead'; lease: LeaseRecord }
  | { kind: 'silent'; lease: LeaseRecord; silentMs: number };

/** Who drives a run: nobody, a live holder, a dead one (this host), or one silent too long (another host). */
export function driverOf(lease: LeaseRecord | null, now: number = Date.now()): DriverView {
  if (!lease) return { kind: 'nobody' };
  if (!holderIsAlive(lease)) return { kind: 'dead', lease };
  const silentMs = now - Date.parse(lease.heartbeatAt);
  if (silentMs > leaseStaleAfterMs()) return { kind: 'silent', lease, silentMs };
  return { kind: 'live', lease };
}
