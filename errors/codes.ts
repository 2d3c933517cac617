/** The exit statuses of the CLI (README.md, "Exit codes"). */
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

/** Where the advice of a failed step is read: the run's resume command and the KB's next step. */
export interface AdviceContext {
  /** `kms-recover resume <run>`. */
  resume: string;
  /** The KB's words for the step the run is at (`KB step 4: restore the Kmsdata directory from backup.`). */
  next: string;
  /** The error's own message. */
  message: string;
}

/** What an error code means: the exit status, whether a step failing with it is retried, and what the operator does next. */
export interface CodeMeaning {
  exit: ExitStatus;
  /** A step failing with it is retried automatically (the server may just be busy). */
  retryable: boolean;
  /** The operator's next step when a run rests failed with it; absent: fix the cause, then resume. */
  advice?: (at: AdviceContext) => string;
}

const refused = { exit: EXIT.REFUSED, retryable: false } as const;
const stepFailed = { exit: EXIT.STEP_FAILED, retryable: false } as const;
// The server may be busy (a file briefly in use, a service slow to stop or start): worth another attempt.
const busy = { exit: EXIT.STEP_FAILED, retryable: true } as const;
const locked = { exit: EXIT.RUN_LOCKED, retryable: false } as const;
const database = { exit: EXIT.DATABASE, retryable: false } as const;
const nothing = { exit: EXIT.NOT_FOUND, retryable: false } as const;

/** The credential is wrong or missing: the startup disk of the ORIGINAL server, or its alpha string. */
const credentialAdvice = ({ resume, next }: AdviceContext): string =>
  `${next} Insert the startup disk of the ORIGINAL Key Management Server or set KMS_ALPHA_STRING to its alpha string, then run: ${resume} --startup-disk <Kmspwd.ini> (or ${resume} with KMS_ALPHA_STRING set)`;

/**
 * Every error code the tool can report, written once: its exit status, whether it is retried,
 * and the operator's next step. `README.md`'s exit-code section, the CLI, the retry policy and
 * `status` all read this table.
 */
export const ERROR_CODES = {
  INTERNAL: { exit: EXIT.INTERNAL, retryable: false },
  USAGE: { exit: EXIT.USAGE, retryable: false },
  // Refused before anything changed (preflight, bad input).
  PATH_MISSING: refused,
  PATH_NOT_DIRECTORY: refused,
  PATH_UNSAFE: refused,
  NOT_KMSDATA: refused,
  BACKUP_INVALID: refused,
  STARTUP_DISK_MISSING: { ...refused, advice: credentialAdvice },
  STARTUP_DISK_INVALID: { ...refused, advice: credentialAdvice },
  ALPHA_INVALID: { ...refused, advice: credentialAdvice },
  CREDENTIAL_MISSING: { ...refused, advice: credentialAdvice },
  SERVICE_MISSING: {
    ...refused,
    advice: ({ resume }) => `The Exchange Key Management Server service is not installed: reinstall Key Management Server (KB step 1), then run: ${resume}`,
  },
  // Windows: not allowed to query the service control manager (not an elevated administrator).
  SERVICE_ACCESS_DENIED: refused,
  // Windows, --server: the server's service control manager or admin share cannot be reached.
  SERVER_UNREACHABLE: refused,
  // Windows, --server: --kmsdata is not a path on that server's admin share.
  KMSDATA_NOT_ON_SERVER: refused,
  ADAPTER_UNSUPPORTED: refused,
  // --original-name: the target computer has another name (KB Q198814 recovers KMS to a computer with the same name).
  COMPUTER_NAME_MISMATCH: refused,
  SIM_INVALID: refused,
  // The OS refused a read or a change for want of permission (not a file in use).
  ACCESS_DENIED: refused,
  // A step failed: the run is kept at its last good state and can be resumed.
  STEP_FAILED: busy,
  SERVICE_STOP_FAILED: {
    ...busy,
    advice: ({ resume }) => `Stop the Exchange Key Management Server service (MSExchangeKMS) by hand (KB step 2), then run: ${resume}`,
  },
  SERVICE_START_FAILED: {
    ...busy,
    advice: ({ resume }) => `The Microsoft Key Management Server service did not start (KB step 7): read the service's error in the Windows event log and fix its cause, then run: ${resume}`,
  },
  ALPHA_REJECTED: { ...stepFailed, advice: credentialAdvice },
  // The KMS reported RUNNING, then stopped (or logged an error, or let go of its database) within the settle window.
  KMS_FAILED_AFTER_START: {
    ...stepFailed,
    advice: ({ resume }) => `The Key Management Server started, then failed within the settle window (KB step 7): read its errors above and in the Application log, fix their cause, then run: ${resume}; the reinstall's files are kept until the KMS runs`,
  },
  FILE_IN_USE: {
    ...busy,
    advice: ({ resume, next }) => `A file in Exchsrvr\\Kmsdata is still open: make sure the Exchange Key Management Server service is stopped (KB step 2) and that no other program holds the folder open, then run: ${resume} (${next})`,
  },
  KMSDATA_NOT_EMPTY: stepFailed,
  RESTORE_MISMATCH: {
    ...stepFailed,
    advice: ({ resume, next }) => `The restored Kmsdata does not match the backup: check the backup's disk and that nothing writes into Exchsrvr\\Kmsdata, then run: ${resume} (${next})`,
  },
  // Kmsdata differs from the backup after the restore: the run redoes the clear and the restore.
  KMSDATA_DRIFT: stepFailed,
  // Kmsdata is not the folder pinned at the start (replaced, swapped for a link): nothing was changed.
  KMSDATA_REPLACED: stepFailed,
  BACKUP_CHANGED: {
    ...stepFailed,
    advice: ({ resume }) => `The backup of Kmsdata changed after it was read: put the backup of the ORIGINAL Kmsdata back as it was (KB step 4 restores from it), then run: ${resume}`,
  },
  STEP_TIMEOUT: { ...busy, advice: ({ message, next }) => `${message} (${next})` },
  INJECTED_FAULT: busy,
  MANUAL_STEP_UNVERIFIED: { ...stepFailed, advice: ({ message }) => message },
  // The run waits for the operator to do a manual step and confirm it.
  MANUAL_STEP_PENDING: { exit: EXIT.WAITING, retryable: false },
  // Refused: a request the run cannot honour as asked.
  REWIND_REFUSED: refused,
  CONFIRMATION_REQUIRED: refused,
  MANUAL_STEP_INVALID: refused,
  // Another process drives the run, or another run holds the server.
  RUN_LOCKED: locked,
  SERVER_CLAIMED: locked,
  // This driver's lease was taken over: it stopped before touching the server again.
  LEASE_LOST: locked,
  // The database cannot be used.
  DB_CORRUPT: database,
  DB_FOREIGN: database,
  DB_TOO_NEW: database,
  DB_TOO_OLD: database,
  // The disk holding the database is full: nothing more can be recorded.
  DB_FULL: database,
  DB_BUSY: database,
  DEFINITION_MISMATCH: database,
  // Stopped by a signal during a run: the drive ended cleanly, its lease released; resume goes on.
  INTERRUPTED: { exit: EXIT.INTERRUPTED, retryable: false },
  TERMINATED: { exit: EXIT.TERMINATED, retryable: false },
  // Nothing to act on.
  RUN_NOT_FOUND: nothing,
  NOTHING_TO_RESUME: nothing,
  RUN_FINISHED: nothing,
} as const satisfies Record<string, CodeMeaning>;

export type ErrorCode = keyof typeof ERROR_CODES;

export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(ERROR_CODES, code);
}

function meaningOf(code: string): CodeMeaning | undefined {
  return isErrorCode(code) ? ERROR_CODES[code] : undefined;
}

/** The exit status of a code; one that is not the tool's is an internal error. */
export function exitStatusFor(code: string): ExitStatus {
  return meaningOf(code)?.exit ?? EXIT.INTERNAL;
}

/** Whether a step that failed with this code is retried automatically (within its policy). */
export function isRetryable(code: string): boolean {
  return meaningOf(code)?.retryable ?? false;
}

/** The operator's next step for a run resting failed with this code. */
export function adviceFor(code: string, at: AdviceContext): string {
  const advice = meaningOf(code)?.advice;
  return advice ? advice(at) : `Fix the cause above, then retry: ${at.resume} (${at.next})`;
}
