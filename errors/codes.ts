/**
 * Every error code the tool can report, and the exit status the CLI gives it.
 * One table, so `README.md`'s exit-code section and the CLI cannot disagree.
 */
export const EXIT = {
  OK: 0,
  INTERNAL: 1,
  USAGE: 2,
  REFUSED: 3,
  STEP_FAILED: 4,
  RUN_LOCKED: 5,
  DATABASE: 6,
  NOT_FOUND: 7,
  WAITING: 8,
  /** Ctrl-C (SIGINT) during a run: 128 + 2, as a shell reports it. */
  INTERRUPTED: 130,
  /** SIGTERM during a run: 128 + 15. */
  TERMINATED: 143,
} as const;

export type ExitStatus = (typeof EXIT)[keyof typeof EXIT];

export const ERROR_EXIT = {
  INTERNAL: EXIT.INTERNAL,
  USAGE: EXIT.USAGE,
  // Refused before anything changed (preflight, bad input).
  PATH_MISSING: EXIT.REFUSED,
  PATH_NOT_DIRECTORY: EXIT.REFUSED,
  PATH_UNSAFE: EXIT.REFUSED,
  NOT_KMSDATA: EXIT.REFUSED,
  BACKUP_INVALID: EXIT.REFUSED,
  STARTUP_DISK_MISSING: EXIT.REFUSED,
  STARTUP_DISK_INVALID: EXIT.REFUSED,
  ALPHA_INVALID: EXIT.REFUSED,
  CREDENTIAL_MISSING: EXIT.REFUSED,
  SERVICE_MISSING: EXIT.REFUSED,
  // Windows: not allowed to query the service control manager (not an elevated administrator).
  SERVICE_ACCESS_DENIED: EXIT.REFUSED,
  // Windows, --server: the server's service control manager or admin share cannot be reached.
  SERVER_UNREACHABLE: EXIT.REFUSED,
  // Windows, --server: --kmsdata is not a path on that server's admin share.
  KMSDATA_NOT_ON_SERVER: EXIT.REFUSED,
  ADAPTER_UNSUPPORTED: EXIT.REFUSED,
  SIM_INVALID: EXIT.REFUSED,
  // The OS refused a read or a change for want of permission (not a file in use).
  ACCESS_DENIED: EXIT.REFUSED,
  // A step failed: the run is kept at its last good state and can be resumed.
  STEP_FAILED: EXIT.STEP_FAILED,
  SERVICE_STOP_FAILED: EXIT.STEP_FAILED,
  SERVICE_START_FAILED: EXIT.STEP_FAILED,
  ALPHA_REJECTED: EXIT.STEP_FAILED,
  FILE_IN_USE: EXIT.STEP_FAILED,
  KMSDATA_NOT_EMPTY: EXIT.STEP_FAILED,
  RESTORE_MISMATCH: EXIT.STEP_FAILED,
  // Kmsdata differs from the backup after the restore: the run redoes the clear and the restore.
  KMSDATA_DRIFT: EXIT.STEP_FAILED,
  // Kmsdata is not the folder pinned at the start (replaced, swapped for a link): nothing was changed.
  KMSDATA_REPLACED: EXIT.STEP_FAILED,
  BACKUP_CHANGED: EXIT.STEP_FAILED,
  GUARD_REJECTED: EXIT.STEP_FAILED,
  STEP_TIMEOUT: EXIT.STEP_FAILED,
  INJECTED_FAULT: EXIT.STEP_FAILED,
  MANUAL_STEP_UNVERIFIED: EXIT.STEP_FAILED,
  // The run waits for the operator to do a manual step and confirm it.
  MANUAL_STEP_PENDING: EXIT.WAITING,
  // Refused: a request the run cannot honour as asked.
  REWIND_REFUSED: EXIT.REFUSED,
  CONFIRMATION_REQUIRED: EXIT.REFUSED,
  MANUAL_STEP_INVALID: EXIT.REFUSED,
  // Another process drives the run, or another run holds the server.
  RUN_LOCKED: EXIT.RUN_LOCKED,
  SERVER_CLAIMED: EXIT.RUN_LOCKED,
  // This driver's lease was taken over: it stopped before touching the server again.
  LEASE_LOST: EXIT.RUN_LOCKED,
  // The database cannot be used.
  DB_CORRUPT: EXIT.DATABASE,
  DB_FOREIGN: EXIT.DATABASE,
  DB_TOO_NEW: EXIT.DATABASE,
  DB_TOO_OLD: EXIT.DATABASE,
  // The disk holding the database is full: nothing more can be recorded.
  DB_FULL: EXIT.DATABASE,
  DB_BUSY: EXIT.DATABASE,
  DEFINITION_MISMATCH: EXIT.DATABASE,
  // Stopped by a signal during a run: the drive ended cleanly, its lease released; resume goes on.
  INTERRUPTED: EXIT.INTERRUPTED,
  TERMINATED: EXIT.TERMINATED,
  // Nothing to act on.
  RUN_NOT_FOUND: EXIT.NOT_FOUND,
  NOTHING_TO_RESUME: EXIT.NOT_FOUND,
  RUN_FINISHED: EXIT.NOT_FOUND,
} as const satisfies Record<string, ExitStatus>;

export type ErrorCode = keyof typeof ERROR_EXIT;

export function exitStatusFor(code: string): ExitStatus {
  return (ERROR_EXIT as Record<string, ExitStatus>)[code] ?? EXIT.INTERNAL;
}
