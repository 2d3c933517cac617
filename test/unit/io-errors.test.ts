import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import { exitStatusFor, isRetryable, KmsRecoverError } from '../../errors/index.js';
import { asFileIoError, fileError } from '../../host/fs/file-errors.js';
import { MACHINE_VERSION, recoveryMachine } from '../../machines/index.js';
import { databaseError, FencedRun, openDatabase, RunLeases, RunStore, type Db } from '../../persistence/index.js';

/*
 * I/O errors are the disk's, never a bug: SQLite's are DB_IO (exit 6), the file system's FILE_IO
 * (exit 4, retried), each naming the file and the call. The fault lane (npm run test:faults)
 * injects real EIO with libfiu; here the translation is proved on errors as better-sqlite3 and
 * Node raise them.
 */

let dir: string;
let file: string;
let db: Db;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kms-io-'));
  file = path.join(dir, 'runs.db');
  db = openDatabase(file).db;
});
afterEach(() => {
  if (db.open) db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const input = {
  serviceName: 'MSExchangeKMS', kmsdata: '/x/Exchsrvr/Kmsdata', backup: '/b/Kmsdata',
  backupManifest: { fileCount: 1, totalBytes: 3, digest: 'd'.repeat(64) }, kmsdataIdentity: null, manual: [],
};

function createRun(store: RunStore): unknown {
  const snapshot = createActor(recoveryMachine, { input }).getPersistedSnapshot();
  store.createRun({ claim: { claim: 'Exchsrvr/kms-recover.claim', recoveredBefore: null }, params: { serviceName: 'MSExchangeKMS', kmsdata: 'D:\\exchsrvr\\Kmsdata', backup: 'E:\\backup\\Kmsdata' },
    id: 'r1', host: 'h', machineVersion: MACHINE_VERSION, definitionHash: 'x', adapter: 'sim', adapterConfig: {},
    state: 'reinstalled', phase: 'working', snapshot, serverKey: '/srv/Exchsrvr/Kmsdata',
    manifest: { files: [{ path: 'a.edb', size: 3, sha256: 'a'.repeat(64) }], dirs: [], fileCount: 1, totalBytes: 3, digest: 'd'.repeat(64) },
  });
  return snapshot;
}

/**
 * From now on, every write to `table` meets SQLite's error `code`, raised where SQLite raises it
 * (inside the statement, by better-sqlite3, as an SqliteError), as a disk failing there would.
 */
function diskFailsOn(table: string, code: string): void {
  db.function('disk_fails', () => { throw new Database.SqliteError('disk I/O error', code); });
  db.exec(`CREATE TEMP TRIGGER disk_fails_insert_${table} BEFORE INSERT ON main.${table} BEGIN SELECT disk_fails(); END;
    CREATE TEMP TRIGGER disk_fails_update_${table} BEFORE UPDATE ON main.${table} BEGIN SELECT disk_fails(); END;`);
}

function thrown(action: () => unknown): KmsRecoverError {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(KmsRecoverError);
    return error as KmsRecoverError;
  }
  throw new Error('nothing was thrown');
}

describe('SQLite I/O errors are DB_IO naming the database, the call and the operation', () => {
  it('a checkpoint whose flush fails (SQLITE_IOERR_FSYNC)', () => {
    const store = new RunStore(db);
    const snapshot = createRun(store);
    diskFailsOn('events', 'SQLITE_IOERR_FSYNC');
    const error = thrown(() => new FencedRun(store, 'r1', 0).checkpoint({ snapshot, state: 'reinstalled', phase: 'working', event: 'x' }));
    expect(error.code).toBe('DB_IO');
    expect(error.message).toContain(file);
    expect(error.message).toContain('fsync');
    expect(error.message).toContain('while writing a checkpoint');
    expect(error.message).toContain('SQLITE_IOERR_FSYNC');
    expect(error.detail).toMatchObject({ db: file, sqlite: 'SQLITE_IOERR_FSYNC', operation: 'writing a checkpoint' });
    expect(exitStatusFor(error.code)).toBe(6);
  });

  it('a driver\'s step start and a lease heartbeat, through the fenced handle and the leases', () => {
    const store = new RunStore(db);
    createRun(store);
    const leases = new RunLeases(db);
    const { token } = leases.acquire('r1', { host: 'h', pid: process.pid, processStart: null }, () => false);
    diskFailsOn('events', 'SQLITE_IOERR_WRITE');
    const step = thrown(() => new FencedRun(store, 'r1', token).beginStep('reinstalled', 'stopService'));
    expect(step.code).toBe('DB_IO');
    expect(step.message).toMatch(/an I\/O error in a write while recording the start of a step \(SQLITE_IOERR_WRITE\)/);
    diskFailsOn('leases', 'SQLITE_IOERR_SHMSIZE');
    const beat = thrown(() => leases.heartbeat('r1', token));
    expect(beat.code).toBe('DB_IO');
    expect(beat.message).toMatch(/the resize of its -shm file while renewing the run's lease/);
  });

  it('the tool\'s own errors pass through the store untouched', () => {
    const store = new RunStore(db);
    expect(thrown(() => store.getRun('nope')).code).toBe('RUN_NOT_FOUND');
  });

  it('every extended I/O code, a full disk and an open that fails in a writable folder', () => {
    for (const code of ['SQLITE_IOERR', 'SQLITE_IOERR_READ', 'SQLITE_IOERR_SHORT_READ', 'SQLITE_IOERR_DIR_FSYNC', 'SQLITE_IOERR_TRUNCATE', 'SQLITE_IOERR_SHMMAP', 'SQLITE_IOERR_CORRUPTFS']) {
      const error = databaseError(new Database.SqliteError('disk I/O error', code), file, 'opening it');
      expect(error, code).toBeInstanceOf(KmsRecoverError);
      expect((error as KmsRecoverError).code, code).toBe('DB_IO');
      expect(error.message, code).toContain(file);
    }
    expect((databaseError(new Database.SqliteError('database or disk is full', 'SQLITE_FULL'), file) as KmsRecoverError).code).toBe('DB_FULL');
    expect((databaseError(new Database.SqliteError('unable to open database file', 'SQLITE_CANTOPEN'), file) as KmsRecoverError).code).toBe('DB_IO');
    // A folder that is not there is not the disk's fault: as before.
    const nowhere = path.join(dir, 'missing', 'runs.db');
    expect((databaseError(new Database.SqliteError('unable to open database file', 'SQLITE_CANTOPEN'), nowhere) as KmsRecoverError).code).toBe('DB_FOREIGN');
  });
});

describe('file-system I/O errors are FILE_IO naming the file and the call', () => {
  const nodeError = (code: string, syscall: string, extra: Record<string, string> = {}) =>
    Object.assign(new Error(`${code}: i/o error, ${syscall}`), { code, errno: -5, syscall, ...extra });

  it('a file operation that knows its file', () => {
    const error = fileError(nodeError('EIO', 'fsync'), { file: '/k/Kmsdata/a.edb' }, (failure, why) => `cannot write /k/Kmsdata/a.edb: ${failure === 'disk' ? why : 'other'}`);
    expect(error.code).toBe('FILE_IO');
    expect(error.message).toBe('cannot write /k/Kmsdata/a.edb: the disk reported an I/O error (EIO in fsync)');
    expect(error.detail).toMatchObject({ file: '/k/Kmsdata/a.edb', errno: 'EIO', syscall: 'fsync' });
    expect(exitStatusFor(error.code)).toBe(4);
    expect(isRetryable(error.code)).toBe(true);
    for (const [code, words] of [['ENOSPC', 'the disk is full'], ['EROFS', 'the file system is read-only']] as const) {
      const other = fileError(nodeError(code, 'write'), { file: '/f' }, (_failure, why) => why);
      expect(other.code).toBe('FILE_IO');
      expect(other.message).toBe(`${words} (${code} in write)`);
    }
  });

  it('the last catch of a step or a command: a rename names both paths', () => {
    const error = asFileIoError(nodeError('EIO', 'rename', { path: '/k/Kmsdata/a', dest: '/k/Kmsdata.quarantine-r1/a' })) as KmsRecoverError;
    expect(error.code).toBe('FILE_IO');
    expect(error.message).toBe('the disk failed a rename /k/Kmsdata/a -> /k/Kmsdata.quarantine-r1/a: the disk reported an I/O error (EIO in rename)');
    // Not a disk error: left as it is (the tool's own error or a bug stays what it is).
    const enoent = nodeError('ENOENT', 'open');
    expect(asFileIoError(enoent)).toBe(enoent);
  });
});
