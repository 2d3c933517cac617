/**
 * What the tool knows of a server's things, as plain data: the service's state, a folder's
 * identity, a backup's manifest, a quarantined entry, a long operation's progress. Shared by the
 * machine's context, the store's records and the Host contract; this module imports nothing.
 */

export type ServiceState = 'running' | 'stopped' | 'start-pending' | 'stop-pending' | 'paused' | 'missing';
export type StartType = 'auto' | 'manual' | 'disabled';

export interface ServiceStatus {
  name: string;
  state: ServiceState;
  startType?: StartType;
  /** Process id of the running service, where the host knows it. */
  pid?: number;
}

/** A folder's identity, pinned at the start checks: device and inode (Windows: volume serial and file ID). */
export interface FolderIdentity {
  dev: string;
  ino: string;
}

/** The same folder (or file), whatever its names: same device and inode. */
export function sameIdentity(a: FolderIdentity, b: FolderIdentity): boolean {
  return a.dev === b.dev && a.ino === b.ino;
}

/** One regular file of a Kmsdata tree; `path` is relative, with `/` separators, sorted order. */
export interface ManifestFile {
  path: string;
  size: number;
  sha256: string;
}

/**
 * What a backup held when it was read before any change: the proof that the restore copied it
 * whole, and that the backup itself was never changed.
 */
export interface Manifest {
  files: ManifestFile[];
  /** Sub-folders, relative, `/` separators, sorted (empty folders are restored too). */
  dirs: string[];
  fileCount: number;
  totalBytes: number;
  /** SHA-256 over the sorted (path, size, sha256) list and the folder list. */
  digest: string;
}

/** One entry moved into a quarantine, recorded in SQLite before it is moved. */
export interface LedgerEntry {
  /** Its name in Kmsdata. */
  name: string;
  /** Its name in the quarantine (suffixed when an earlier attempt already used the name). */
  storedAs: string;
  kind: 'file' | 'dir' | 'symlink' | 'other';
  /** Bytes (a folder: of every file in it). */
  size: number;
  /** SHA-256 of a file; of a folder, the digest of its tree (paths, sizes, hashes); null otherwise. */
  sha256: string | null;
}

/** How far a long operation is: files (or top-level entries, for the clear) and bytes, done and in all. */
export interface WorkProgress {
  filesDone: number;
  filesTotal: number;
  bytesDone: number;
  bytesTotal: number;
}

/** Told after each file (or entry) of a long operation; cheap, called often: the caller bounds any writes. */
export type ProgressCallback = (progress: WorkProgress) => void;

/** A process that holds (or held) a run's lease or a server's claim. */
export interface ProcessHolder {
  host: string;
  pid: number;
  /**
   * When the process started, as the OS tells it (Linux: boot id and start ticks), or null where
   * it cannot be read. A live pid with another start time is a reused pid, not the holder.
   */
  processStart: string | null;
}
