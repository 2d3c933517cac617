import type { FolderIdentity, LedgerEntry, Manifest, ProgressCallback, ServiceStatus } from '../domain/index.js';
import type { TreesApartRequest } from './fs/tree-identity.js';

// The server's things as plain data live in domain/ (machines/ and persistence/ use them too).
export { KMS_SERVICE_NAME } from '../domain/index.js';
export type {
  FolderIdentity, LedgerEntry, Manifest, ManifestFile, ProgressCallback, ServiceState, ServiceStatus, StartType, WorkProgress,
} from '../domain/index.js';

/**
 * The one interface through which kms-recover touches a server. Every method re-checks the real
 * world and is idempotent: stopping a stopped service, clearing an empty Kmsdata, or restoring
 * over a Kmsdata that already matches the manifest all succeed and report what they found.
 * Failures are thrown as KmsRecoverError with a stable code.
 */

export interface ClearReport {
  /** Entries (files and folders, counted at the top level of Kmsdata) moved out by this call. */
  removed: number;
  /** Entries left in Kmsdata after the call, re-read from disk: 0 on success. */
  remaining: number;
  /** The run's quarantine folder beside Kmsdata, holding what was moved out. */
  quarantine: string;
}

/**
 * What every changing operation is given by the step that calls it: `signal` ends the work at its
 * next file or poll (a step's time limit, a lost lease, Ctrl-C); `assertMayAct` throws when this
 * process may no longer change the server (its lease was taken over, the server's claim is gone or
 * names another run) and is called before each change.
 */
export interface ChangeGuard {
  signal?: AbortSignal;
  assertMayAct?: () => void;
}

/** A read-only check of a tree that reports how far it is. */
export interface VerifyOptions extends ChangeGuard {
  onProgress?: ProgressCallback;
  /**
   * The files' stamp (host/fs/file-stamp.ts) the restore left: when every file still has the same
   * identity, size and times, its bytes are not read again; anything else, and they are hashed.
   */
  unchangedSince?: string | null;
}

export interface RestoreOptions extends ChangeGuard {
  /** Files copied and verified so far, after each one (the copy loop's order). */
  onProgress?: ProgressCallback;
  /**
   * The identities Kmsdata may have now: the one pinned (or left by the last restore), and that
   * of a staging copy whose rename into place was recorded but not checkpointed. Empty: unchecked.
   */
  expected?: readonly FolderIdentity[];
  /**
   * Records, before the rename, the identity the staging copy will give Kmsdata: the run's
   * write-ahead note (`restore.promoting`) that lets a resume after a crash between the rename
   * and its checkpoint recognise the Kmsdata it put there (see `expected`). Not a test hook.
   */
  beforePromote?: (identity: FolderIdentity) => void;
}

/** The record beside Kmsdata that says which run is recovering this server. Never a secret. */
export interface ServerClaim {
  runId: string;
  /** The database holding the run, absolute. */
  db: string;
  /** The machine the claiming kms-recover ran on, and its pid. */
  host: string;
  pid: number;
  /** The claiming process's start time where the OS tells it (a reused pid is not the claimer). */
  processStart: string | null;
  claimedAt: string;
  kmsdata: string;
  /** The server named by --server, when it is driven remotely. */
  server?: string;
}

/** The record a finished recovery leaves beside Kmsdata: which run recovered the server, when, from which database. Never a secret. */
export interface ServerRecovery {
  runId: string;
  /** The database holding the run, absolute. */
  db: string;
  host: string;
  recoveredAt: string;
  kmsdata: string;
}

export type ClaimOutcome =
  | { claimed: true; path: string }
  /** `holder` null: a claim file is there but cannot be read as one. */
  | { claimed: false; path: string; holder: ServerClaim | null };

/** What the clear is given besides the guard: the folder it may empty, and the ledger to write to first. */
export interface ClearOptions extends ChangeGuard {
  /** Kmsdata's identity pinned at the start checks; null for a run from before pinning. */
  expected: FolderIdentity | null;
  /** Records entries durably (one transaction) before any of them is moved (the quarantine ledger). */
  record: (entries: readonly LedgerEntry[]) => void;
  /** Top-level entries moved so far (and their bytes), after each one. */
  onProgress?: ProgressCallback;
}

/** What deleting a quarantine did: entries that matched their ledger were deleted, the rest kept. */
export interface QuarantineRemoval {
  removed: string[];
  /** Entries left because they are not as the ledger recorded them (or not in it). */
  kept: string[];
}

/** A per-run folder beside Kmsdata: a quarantine (the reinstall's files) or a restore staging copy. */
export interface RunFolder {
  kind: 'quarantine' | 'staging';
  runId: string;
  path: string;
  /** Entries at its top level. */
  entries: number;
}

export interface RestoreReport {
  /** Kmsdata's identity after the restore (the staging folder renamed into place). */
  identity: FolderIdentity;
  fileCount: number;
  totalBytes: number;
  /** The manifest digest of what now stands in Kmsdata, re-derived from the bytes copied. */
  digest: string;
  /** Relative paths that did not match the manifest (empty on success). */
  mismatches: string[];
  /** True when Kmsdata already matched the manifest and nothing was copied. */
  alreadyRestored: boolean;
  /**
   * The stamp of the files as the restore left them (each one's device, inode, size and times;
   * host/fs/file-stamp.ts), for the later checks; null where the file system cannot give one.
   */
  stamp: string | null;
}

export interface VerifyReport {
  matches: boolean;
  /** Missing, extra or differing relative paths. */
  differences: string[];
  /**
   * How a match was proved: `contents`, every file hashed; `identity`, every file the very one
   * the restore wrote, unchanged since (the stamp given as `unchangedSince`).
   */
  by?: 'contents' | 'identity';
  /** The files' stamp taken before they were read (null where the file system cannot give one). */
  stamp?: string | null;
}

/** The trees a run must keep apart, and the files it keeps (host/fs/tree-identity.ts). */
export type { PlaceApart, TreesApartRequest } from './fs/tree-identity.js';

/** How a service's last run ended, as the service control manager recorded it. */
export interface ServiceExit {
  /** WIN32_EXIT_CODE: 1066 (ERROR_SERVICE_SPECIFIC_ERROR) when the service set its own code. */
  win32ExitCode: number;
  /** SERVICE_EXIT_CODE: the service's own code (KB Q151689: 1 for a KMS without its alpha string). */
  serviceExitCode: number;
}

/**
 * One look at a started KMS (the settle window looks again and again): whether it still runs,
 * whether it holds its database, what it logged as errors since it was started.
 */
export interface KmsObservation {
  status: ServiceStatus;
  /**
   * The identity (device and inode; Windows: volume serial number and file ID) of the
   * `kmsdata.edb` the running service holds open, null when it holds none (Windows: opening the
   * file for reading does not fail with a sharing violation; the simulator: not among its open files).
   */
  heldDatabase: FolderIdentity | null;
  /** The KMS's errors logged since `since` (Windows: the Application log; the simulator: its daemon's log). */
  errors: string[];
  /** How it ended, when it is stopped and the service manager knows. */
  exit?: ServiceExit;
  /** The identity of the database the KMS reports it opened (the simulator: the `kmsId` of `kmscheck.dat`); absent where it tells none. */
  reportedDatabaseId?: string;
}

export interface ServiceControl {
  queryService(name: string): Promise<ServiceStatus>;
  /**
   * The folder the service keeps its data in, from its own configuration (Windows: the binary
   * path `QueryServiceConfigW` gives, `<Exchsrvr>\bin\…exe` -> `<Exchsrvr>\Kmsdata`; the
   * simulator: its service record), as this host reaches it (with --server: on the admin share).
   * SERVICE_MISSING when the service is not installed.
   */
  serviceKmsdata(name: string): Promise<string>;
  /** Stop and wait until the service is verifiably stopped. A stopped service is left as is. */
  stopService(name: string, guard: ChangeGuard): Promise<ServiceStatus>;
  /**
   * Start with these start parameters (the KMS takes its alpha string here) and wait until it
   * runs. A running service is left as is. The parameters never reach a command line or a log.
   */
  startService(name: string, startParameters: readonly string[], guard: ChangeGuard): Promise<ServiceStatus>;
  /** How the service's last run ended (WIN32_EXIT_CODE, SERVICE_EXIT_CODE), where the service control manager tells it. */
  lastExit?(name: string): Promise<ServiceExit | undefined>;
}

export interface KmsdataOperations {
  /** Check that `kmsdata` is a real `Exchsrvr\\Kmsdata` folder (no symlink, no root); returns it absolute. */
  checkKmsdataPath(kmsdata: string): Promise<string>;
  /** Check that `backup` is a readable, non-empty copy standing apart from `kmsdata`; returns it absolute. */
  checkBackupPath(backup: string, kmsdata: string): Promise<string>;
  /**
   * Refuses (PATHS_OVERLAP) any of Kmsdata, the backup, earlier runs' folders and the run's own
   * files lying inside another, judged by the identity of every folder, not by names. Read-only.
   */
  checkTreesApart(request: TreesApartRequest): Promise<void>;
  /** Refuses (KMSDATA_MOUNT_POINT) a Kmsdata that is, or holds, a mount point: the moves stay on one volume. Read-only. */
  checkOneVolume(kmsdata: string): Promise<void>;
  /** Read a backup (or any Kmsdata tree) and describe it. Read-only. */
  manifest(dir: string): Promise<Manifest>;
  /**
   * Empty Kmsdata (never Kmsdata itself), after checking the path is one, by moving its entries
   * into the run's quarantine folder beside it: nothing is destroyed until the run succeeds.
   */
  clearKmsdata(kmsdata: string, runId: string, options: ClearOptions): Promise<ClearReport>;
  /**
   * Delete the run's staging folder, and of its quarantine the entries that match their ledger:
   * anything else is kept and reported. Called once the KMS runs (for this run, and for the runs
   * of this server that were abandoned before it).
   */
  removeQuarantine(kmsdata: string, runId: string, ledger: readonly LedgerEntry[]): Promise<QuarantineRemoval>;
  /** The identity of the Kmsdata folder now (never following a link). */
  kmsdataIdentity(kmsdata: string): Promise<FolderIdentity>;
  /**
   * Checks at the start that the backup can be restored into Kmsdata's file system: names it can
   * hold, path lengths, free space for the backup's bytes, a self-consistent manifest. Read-only.
   */
  checkRestorable(kmsdata: string, manifest: Manifest): Promise<void>;
  /** The per-run folders (quarantines, staging copies) beside Kmsdata. Read-only. */
  runFolders(kmsdata: string): Promise<RunFolder[]>;
  /** Claim the server for a run (atomically, before its first change); the existing claim if there is one. */
  claimServer(kmsdata: string, claim: ServerClaim): Promise<ClaimOutcome>;
  /** The server's claim, if any (holder null: unreadable). Read-only. */
  readServerClaim(kmsdata: string): Promise<{ path: string; holder: ServerClaim | null } | null>;
  /**
   * The server's claim as it is on disk this instant, read synchronously (a change guard calls it
   * before every change): `exists` false when there is none, `holder` null when there is none or
   * it cannot be read as one.
   */
  serverClaimNow(kmsdata: string): { path: string; exists: boolean; holder: ServerClaim | null };
  /** The record of the last finished recovery of this server, if any (null also when unreadable). Read-only. */
  recoveryRecordNow(kmsdata: string): ServerRecovery | null;
  /** Leaves the record of a finished recovery beside Kmsdata (written whole, then renamed into place). */
  recordRecovery(kmsdata: string, record: ServerRecovery): Promise<void>;
  /** Remove the claim if it names `runId`. */
  releaseServerClaim(kmsdata: string, runId: string): Promise<boolean>;
  /** Copy the backup into Kmsdata through a staging folder, verifying every file against `manifest`. */
  restoreKmsdata(backup: string, kmsdata: string, manifest: Manifest, runId: string, options?: RestoreOptions): Promise<RestoreReport>;
  /**
   * Cheap re-check of the backup against the manifest read at preflight: every listed file still
   * there with its size (contents are verified, hash by hash, while the restore copies them).
   */
  checkBackupAgainstManifest(backup: string, manifest: Manifest): Promise<VerifyReport>;
  /** The names of the entries at Kmsdata's top level now, sorted: what the clear moves, one by one. Read-only. */
  kmsdataEntries(kmsdata: string): Promise<string[]>;
  /** Compare what is in Kmsdata now against `manifest`. Read-only. */
  verifyKmsdata(kmsdata: string, manifest: Manifest, options?: VerifyOptions): Promise<VerifyReport>;
}

/** What the tool looks at to prove the KMS that runs is the original one, on the original computer. */
export interface KmsObserver {
  /** The started KMS now: its state and pid, the database it holds, its errors logged since `since`. Read-only. */
  observeKms(name: string, kmsdata: string, since: Date): Promise<KmsObservation>;
  /** The identity of `kmsdata.edb` in `kmsdata` (null when there is none). Read-only. */
  databaseIdentity(kmsdata: string): Promise<FolderIdentity | null>;
  /** The database identity a Kmsdata tree holds as its KMS would report it (the simulator: `kmscheck.dat`'s kmsId); null where unknown. */
  databaseIdOf(dir: string): Promise<string | null>;
  /** The target computer's name (Windows: GetComputerNameExW, or the --server name; the simulator: its name). */
  computerName(): Promise<string>;
}

/** A server as the tool drives it: its service control manager and its Kmsdata folder. */
export interface Host extends ServiceControl, KmsdataOperations, KmsObserver {}

/** The guard of a service call no run stands behind (the simulator's own `sim start`/`sim stop`, its setup and reboot): nothing to check, nothing to abort it. */
export const NO_RUN_GUARD: ChangeGuard = Object.freeze({});
