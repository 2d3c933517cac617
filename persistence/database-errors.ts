import fs from 'node:fs';
import path from 'node:path';
import { KmsRecoverError } from '../errors/index.js';

/**
 * What SQLite was doing when the disk failed, from its extended result code
 * (https://sqlite.org/rescode.html#extrc): the call the administrator can look for in the
 * system log. A code not listed is named as SQLite names it.
 */
const IO_CALLS: Readonly<Record<string, string>> = {
  SQLITE_IOERR_READ: 'a read',
  SQLITE_IOERR_SHORT_READ: 'a read (the file is shorter than SQLite wrote it)',
  SQLITE_IOERR_WRITE: 'a write',
  SQLITE_IOERR_FSYNC: 'fsync (the flush to disk)',
  SQLITE_IOERR_DIR_FSYNC: 'the fsync of its folder',
  SQLITE_IOERR_TRUNCATE: 'a truncate',
  SQLITE_IOERR_FSTAT: 'fstat',
  SQLITE_IOERR_UNLOCK: 'an unlock',
  SQLITE_IOERR_RDLOCK: 'a read lock',
  SQLITE_IOERR_LOCK: 'a lock',
  SQLITE_IOERR_CHECKRESERVEDLOCK: 'a lock check',
  SQLITE_IOERR_DELETE: 'the delete of its journal',
  SQLITE_IOERR_ACCESS: 'an access check',
  SQLITE_IOERR_CLOSE: 'a close',
  SQLITE_IOERR_SHMOPEN: 'the open of its -shm file',
  SQLITE_IOERR_SHMSIZE: 'the resize of its -shm file',
  SQLITE_IOERR_SHMMAP: 'the memory map of its -shm file',
  SQLITE_IOERR_SHMLOCK: 'a lock of its -shm file',
  SQLITE_IOERR_SEEK: 'a seek',
  SQLITE_IOERR_MMAP: 'a memory map',
  SQLITE_CANTOPEN: 'the open of the file, its -wal or its -shm',
};

/** `SQLITE_IOERR_FSYNC` → `fsync (the flush to disk)`. */
function ioCall(code: string): string {
  return IO_CALLS[code] ?? code.replace(/^SQLITE_(IOERR_)?/, '').toLowerCase();
}

/** SQLITE_CANTOPEN in a folder that is there and writable: the disk failed the open (or of the -wal, -shm files). */
function folderIsWritable(file: string): boolean {
  try {
    fs.accessSync(path.dirname(path.resolve(file)), fs.constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Maps a driver (better-sqlite3) error met on `file` while doing `operation` (`opening it`,
 * `writing a checkpoint`) to the tool's code; the tool's own errors pass through. An I/O error
 * is DB_IO, naming the file, SQLite's call and the operation, never an internal error.
 */
export function databaseError(error: unknown, file: string, operation?: string): Error {
  if (error instanceof KmsRecoverError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string' || !code.startsWith('SQLITE_')) return error instanceof Error ? error : new Error(String(error));
  const during = operation ? ` while ${operation}` : '';
  if (code === 'SQLITE_NOTADB') {
    return new KmsRecoverError('DB_FOREIGN', `${file} is not a kms-recover database (not an SQLite file)`, { db: file });
  }
  if (code.startsWith('SQLITE_CORRUPT')) {
    return new KmsRecoverError('DB_CORRUPT', `${file} is damaged (${(error as Error).message}); keep a copy and use another --db`, { db: file });
  }
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return new KmsRecoverError('DB_BUSY', `${file} is locked by another process writing to it; try again when it has finished`, { db: file });
  }
  if (code === 'SQLITE_FULL') {
    return new KmsRecoverError('DB_FULL',
      `the disk holding ${path.dirname(path.resolve(file))} is full (writing ${path.basename(file)}${during}): free space there, then run the command again; every checkpoint committed before is kept`,
      { db: file, operation });
  }
  if (code.startsWith('SQLITE_IOERR') || (code === 'SQLITE_CANTOPEN' && folderIsWritable(file))) {
    const call = ioCall(code);
    return new KmsRecoverError('DB_IO',
      `the disk failed the database ${file}: an I/O error in ${call}${during} (${code}); every checkpoint committed before is kept: check that disk, then run the command again`,
      { db: file, call, sqlite: code, operation }, { cause: error });
  }
  if (code.startsWith('SQLITE_CANTOPEN') || code.startsWith('SQLITE_READONLY') || code === 'SQLITE_PERM') {
    return new KmsRecoverError('DB_FOREIGN', `cannot open ${file}: ${(error as Error).message}`, { db: file });
  }
  return error instanceof Error ? error : new Error(String(error));
}

/**
 * `target` with every method's SQLite error translated by databaseError, naming the file and
 * the method's operation (`operations`, else `otherwise`). Calls between the target's own
 * methods are not wrapped again.
 */
export function translatingDatabaseErrors<T extends object>(target: T, file: string, operations: Readonly<Record<string, string>>, otherwise: string): T {
  return new Proxy(target, {
    get(object, key, receiver) {
      const value: unknown = Reflect.get(object, key, receiver);
      if (typeof value !== 'function' || typeof key !== 'string' || key === 'constructor') return value;
      return (...args: unknown[]) => {
        try {
          return (value as (...a: unknown[]) => unknown).apply(object, args);
        } catch (error) {
          throw databaseError(error, file, operations[key] ?? otherwise);
        }
      };
    },
  });
}
