import type { AlphaSource } from '../domain/index.js';

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

/** How the alpha string the KMS refused was given: from `status`'s facts of the credential step. */
export type AlphaFrom = AlphaSource | 'operator';
export const ALPHA_FROM: readonly AlphaFrom[] = ['startup-disk', 'environment', 'prompt', 'operator'];

/** Where the advice of a failed step is read: the run's resume command and the step it goes on with. */
export interface AdviceContext {
  /** `kms-recover resume <run>`, with what it needs (` --startup-disk <file>`). */
  resume: string;
  /** The KB step the run goes on with: `KB step 4`, `KB steps 5-6`. */
  step: string;
  /** The error's own message. */
  message: string;
  /** How the refused alpha string was given, when the run knows it. */
  alphaFrom?: AlphaFrom | null;
}

/** What an error code means: its words, the exit status, whether a step failing with it is retried, and what the operator does next. */
export interface CodeMeaning {
  /**
   * What went wrong in a few plain words, for every screen: `the alpha string was refused`.
   * Screens print it with the code beside it (`codeWords`), so the code can still be searched.
   */
  title: string;
  exit: ExitStatus;
  /** A step failing with it is retried automatically (the server may just be busy). */
  retryable: boolean;
  /**
   * The operator's next step when a run rests failed with it, ending in the one command to run;
   * absent: fix the cause, then resume. At most two short sentences besides the command.
   */
  advice?: (at: AdviceContext) => string;
}

const refused = { exit: EXIT.REFUSED, retryable: false } as const;
const stepFailed = { exit: EXIT.STEP_FAILED, retryable: false } as const;
// The server may be busy (a file briefly in use, a service slow to stop or start): worth another attempt.
const busy = { exit: EXIT.STEP_FAILED, retryable: true } as const;
const locked = { exit: EXIT.RUN_LOCKED, retryable: false } as const;
const database = { exit: EXIT.DATABASE, retryable: false } as const;
const nothing = { exit: EXIT.NOT_FOUND, retryable: false } as const;

/**
 * The KMS refused the alpha string (or none could be read): the ORIGINAL server's one is needed,
 * from its startup disk or typed when `resume` asks. How the refused one was given says what to change.
 */
const credentialAdvice = ({ resume, alphaFrom }: AdviceContext): string => {
  const disk = resume.includes('--startup-disk') ? '' : ' and add --startup-disk <Kmspwd.ini>';
  switch (alphaFrom) {
    case 'prompt':
      return `The alpha string you typed was refused. Type the ORIGINAL server's alpha string again when asked (or insert its startup disk${disk}), then run: ${resume}`;
    case 'environment':
      return `The alpha string in KMS_ALPHA_STRING was refused. Set it to the ORIGINAL server's alpha string (or insert its startup disk${disk}), then run: ${resume}`;
    case 'startup-disk':
      return `The alpha string on the startup disk was refused. Insert the ORIGINAL server's startup disk (or type its alpha string when asked, without --startup-disk), then run: ${resume}`;
    default:
      return `The alpha string was refused. Insert the ORIGINAL server's startup disk${disk} (or type its alpha string when asked), then run: ${resume}`;
  }
};

/** No alpha string could be read at all: give the ORIGINAL server's one. */
const noCredentialAdvice = ({ resume }: AdviceContext): string =>
  `Insert the ORIGINAL server's startup disk${resume.includes('--startup-disk') ? '' : ' and add --startup-disk <Kmspwd.ini>'} (or type its alpha string when asked), then run: ${resume}`;

/**
 * Every error code the tool can report, written once: its words, its exit status, whether it is
 * retried, and the operator's next step. `README.md`'s exit-code section, the CLI, the retry
 * policy, `status`, `history` and the diagram all read this table.
 */
export const ERROR_CODES = {
  INTERNAL: { title: 'an internal error of kms-recover', exit: EXIT.INTERNAL, retryable: false },
  USAGE: { title: 'the command line is not valid', exit: EXIT.USAGE, retryable: false },
  // Refused before anything changed (preflight, bad input).
  PATH_MISSING: { ...refused, title: 'a folder or file does not exist' },
  PATH_NOT_DIRECTORY: { ...refused, title: 'a path is not a folder' },
  PATH_UNSAFE: { ...refused, title: 'a path cannot be used safely' },
  NOT_KMSDATA: { ...refused, title: 'the folder is not a Kmsdata folder' },
  BACKUP_INVALID: { ...refused, title: 'the backup of Kmsdata cannot be used' },
  STARTUP_DISK_MISSING: { ...refused, title: 'the startup disk was not found', advice: noCredentialAdvice },
  STARTUP_DISK_INVALID: { ...refused, title: 'the startup disk holds no usable alpha string', advice: noCredentialAdvice },
  ALPHA_INVALID: { ...refused, title: 'the alpha string is not well formed', advice: credentialAdvice },
  CREDENTIAL_MISSING: { ...refused, title: 'no alpha string was given', advice: noCredentialAdvice },
  SERVICE_MISSING: {
    ...refused,
    title: 'the Key Management Server service is not installed',
    advice: ({ resume }) => `Reinstall Key Management Server (KB step 1), then run: ${resume}`,
  },
  // Windows: not allowed to query the service control manager (not an elevated administrator).
  SERVICE_ACCESS_DENIED: { ...refused, title: 'not allowed to control services (run as an elevated administrator)' },
  // Windows, --server: the server's service control manager or admin share cannot be reached.
  SERVER_UNREACHABLE: { ...refused, title: 'the server cannot be reached' },
  // Windows, --server: --kmsdata is not a path on that server's admin share.
  KMSDATA_NOT_ON_SERVER: { ...refused, title: 'the Kmsdata folder is not on that server' },
  // --kmsdata is not the folder the KMS service keeps its data in (its service configuration says which).
  KMSDATA_NOT_THE_SERVICES: { ...refused, title: 'the folder is not the one the service keeps its data in' },
  // Kmsdata, the backup, the database, the log, the startup disk or a run's folder lie inside one another (by identity).
  PATHS_OVERLAP: { ...refused, title: 'two of the folders lie inside one another' },
  // Kmsdata is (or holds) a mount point: its quarantine and staging folders beside it would be on another volume.
  KMSDATA_MOUNT_POINT: { ...refused, title: 'the Kmsdata folder is or holds a mount point' },
  ADAPTER_UNSUPPORTED: { ...refused, title: 'this system is not supported' },
  // --original-name: the target computer has another name (KB Q198814 recovers KMS to a computer with the same name).
  COMPUTER_NAME_MISMATCH: { ...refused, title: 'the computer does not have the original server\'s name' },
  SIM_INVALID: { ...refused, title: 'the simulated server cannot be used' },
  // The OS refused a read or a change for want of permission (not a file in use).
  ACCESS_DENIED: { ...refused, title: 'access was denied' },
  // The disk failed a file operation (EIO, ENOSPC, EROFS...): the message names the file and the
  // call. A disk may have a passing fault: worth another attempt, within the step's policy.
  FILE_IO: {
    ...busy,
    title: 'the disk failed an operation',
    advice: ({ resume }) => `Check the disk named above (free space, read-only, errors in the system log), then run: ${resume}`,
  },
  // A step failed: the run is kept at its last good state and can be resumed.
  STEP_FAILED: { ...busy, title: 'the step failed' },
  SERVICE_STOP_FAILED: {
    ...busy,
    title: 'the service did not stop',
    advice: ({ resume }) => `Stop the Exchange Key Management Server service (MSExchangeKMS) by hand (KB step 2), then run: ${resume}`,
  },
  SERVICE_START_FAILED: {
    ...busy,
    title: 'the service did not start',
    advice: ({ resume }) => `Read the service's error in the Windows event log and fix its cause, then run: ${resume}`,
  },
  ALPHA_REJECTED: { ...stepFailed, title: 'the alpha string was refused', advice: credentialAdvice },
  // The KMS reported RUNNING, then stopped (or logged an error, or let go of its database) within the settle window.
  KMS_FAILED_AFTER_START: {
    ...stepFailed,
    title: 'the service started, then failed',
    advice: ({ resume }) => `Read its errors above and in the Application log and fix their cause (the reinstall's files are kept until the KMS runs), then run: ${resume}`,
  },
  FILE_IN_USE: {
    ...busy,
    title: 'a file in Kmsdata is in use',
    advice: ({ resume }) => `Make sure the Key Management Server service is stopped (KB step 2) and no other program holds Kmsdata open, then run: ${resume}`,
  },
  KMSDATA_NOT_EMPTY: { ...stepFailed, title: 'Kmsdata holds files it should not' },
  RESTORE_MISMATCH: {
    ...stepFailed,
    title: 'the restored Kmsdata does not match the backup',
    advice: ({ resume }) => `Check the backup's disk and that nothing writes into Exchsrvr\\Kmsdata, then run: ${resume}`,
  },
  // Kmsdata differs from the backup after the restore: the run redoes the clear and the restore.
  KMSDATA_DRIFT: { ...stepFailed, title: 'Kmsdata changed after the restore' },
  // Kmsdata is not the folder pinned at the start (replaced, swapped for a link): nothing was changed.
  KMSDATA_REPLACED: { ...stepFailed, title: 'the Kmsdata folder was replaced by another one' },
  // A move between two folders failed with EXDEV: they are on different file systems.
  CROSS_DEVICE: {
    ...stepFailed,
    title: 'Kmsdata and the folders beside it are on different volumes',
    advice: ({ resume }) => `Put Exchsrvr\\Kmsdata and the folders beside it on one volume (no mount point or junction between them), then run: ${resume}`,
  },
  BACKUP_CHANGED: {
    ...stepFailed,
    title: 'the backup changed after it was read',
    advice: ({ resume }) => `Put the backup of the ORIGINAL Kmsdata back as it was (KB step 4 restores from it), then run: ${resume}`,
  },
  STEP_TIMEOUT: { ...busy, title: 'the step took longer than its time limit', advice: ({ resume }) => `See in the log what held the step up (resume --timeout gives it more time), then run: ${resume}` },
  INJECTED_FAULT: { ...busy, title: 'a test fault was injected' },
  MANUAL_STEP_UNVERIFIED: { ...stepFailed, title: 'the manual step is not done yet', advice: ({ message, resume }) => `Finish the manual step (${message}), then run: ${resume}` },
  // The run waits for the operator to do a manual step and confirm it.
  MANUAL_STEP_PENDING: { title: 'a manual step waits for you', exit: EXIT.WAITING, retryable: false },
  // Refused: a request the run cannot honour as asked.
  REWIND_REFUSED: { ...refused, title: 'the run cannot go back there' },
  CONFIRMATION_REQUIRED: { ...refused, title: 'not confirmed' },
  MANUAL_STEP_INVALID: { ...refused, title: 'that is not the step to confirm' },
  // Another process drives the run, or another run holds the server.
  RUN_LOCKED: { ...locked, title: 'another process drives the run' },
  SERVER_CLAIMED: { ...locked, title: 'another run holds the server' },
  // This driver's lease was taken over: it stopped before touching the server again.
  LEASE_LOST: { ...locked, title: 'another process took the run over' },
  // The server's claim is gone or names another run: the run stopped before touching the server.
  CLAIM_LOST: {
    ...locked,
    title: 'the server\'s claim is gone or is another run\'s',
    advice: ({ resume }) => `Look at Exchsrvr\\kms-recover.claim beside Kmsdata. If no other recovery of this server is under way, run ${resume}; otherwise end this run with ${resume.replace(/\bresume\b/, 'abandon')}`,
  },
  // The database cannot be used.
  DB_CORRUPT: { ...database, title: 'the database is damaged' },
  DB_FOREIGN: { ...database, title: 'the file is not a kms-recover database' },
  DB_TOO_NEW: { ...database, title: 'the database is from a newer kms-recover' },
  DB_TOO_OLD: { ...database, title: 'the database is too old for this kms-recover' },
  // The disk holding the database is full: nothing more can be recorded.
  DB_FULL: { ...database, title: 'the disk holding the database is full' },
  DB_BUSY: { ...database, title: 'another process is writing to the database' },
  // The disk holding the database failed a read, write or flush: the message names the file and
  // the call; what was committed before is kept.
  DB_IO: {
    ...database,
    title: 'the disk holding the database failed an operation',
    advice: ({ resume }) => `Check that disk (errors in the system log, free space), or copy the database with its -wal file to a sound disk and add --db, then run: ${resume}`,
  },
  DEFINITION_MISMATCH: { ...database, title: 'the run was made by another version\'s recovery steps' },
  // Stopped by a signal during a run: the drive ended cleanly, its lease released; resume goes on.
  INTERRUPTED: { title: 'stopped by Ctrl-C', exit: EXIT.INTERRUPTED, retryable: false },
  TERMINATED: { title: 'stopped by a signal to end', exit: EXIT.TERMINATED, retryable: false },
  // Nothing to act on.
  RUN_NOT_FOUND: { ...nothing, title: 'no such run' },
  NOTHING_TO_RESUME: { ...nothing, title: 'no run to resume' },
  RUN_FINISHED: { ...nothing, title: 'the run is closed' },
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
  return advice ? advice(at) : `Fix the cause above, then run: ${at.resume} (it goes on with ${at.step})`;
}

/** A code's plain words: `the alpha string was refused`; a code that is not the tool's, its own name. */
export function titleOf(code: string): string {
  return meaningOf(code)?.title ?? code;
}

/** A code as every screen prints it: its words, the code beside them for searches (`the alpha string was refused (ALPHA_REJECTED)`). */
export function codeWords(code: string): string {
  const meaning = meaningOf(code);
  return meaning ? `${meaning.title} (${code})` : code;
}
