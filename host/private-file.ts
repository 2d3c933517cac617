/**
 * The permissions of the files the tool keeps (database, its -wal and -shm, the log, the server's
 * claim): readable and writable by their owner only. On Windows a mode only sets the read-only
 * attribute: those files get the permissions of the folder they are made in.
 */
export const PRIVATE_FILE_MODE = 0o600;
