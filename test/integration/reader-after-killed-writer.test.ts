import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { openDatabase } from '../../persistence/index.js';
import { SCHEMA_VERSION } from '../../persistence/migrations.js';
import { REPO_ROOT } from '../helpers/run-cli.js';
import { cliLimit } from '../helpers/time-limit.js';

const dirs: string[] = [];
afterEach(() => {
  vi.restoreAllMocks();
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

/** A process that creates the database (schema, WAL) and is killed before it ever closes it. */
function killedWriter(file: string): Promise<NodeJS.Signals | null> {
  const script = `import { openDatabase } from ${JSON.stringify(path.join(REPO_ROOT, 'dist/persistence/index.js'))};
openDatabase(${JSON.stringify(file)});
process.kill(process.pid, 'SIGKILL');`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'ignore', 'inherit'] });
  return new Promise((resolve) => child.on('close', (_code, signal) => resolve(signal)));
}

/*
 * One-truth's "interrupted in a back-off" (a fresh-clone CI run of issue 24): `watch --json`,
 * started beside `status` right after the driver was killed, printed an error document. A reading
 * command checks the database's header itself before SQLite opens the file, and accepts a header
 * without our id while a WAL is there (a killed writer's pages are all in its WAL). Another
 * reader's close, the last connection, checkpoints the WAL into the file and deletes it: between
 * the header read and the look for the WAL, that read the database as another program's.
 */
describe('a reader of a database whose writer was killed', () => {
  it('opens it while another reader closes it (checkpointing and deleting its WAL) between its two looks at the files', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kms-killed-writer-'));
    dirs.push(dir);
    const file = path.join(dir, 'runs.db');
    expect(await killedWriter(file)).toBe('SIGKILL');
    // What the killed writer left: a header without our id (application_id, bytes 68-71), the pages in the WAL.
    expect(fs.readFileSync(file).readUInt32BE(68)).toBe(0);
    expect(fs.existsSync(`${file}-wal`)).toBe(true);

    // The other reader opens, reads and closes just before this one's second look, whichever that is.
    let looks = 0;
    let walLeft: boolean | undefined;
    const existsSync = fs.existsSync;
    const otherReader = () => {
      const other = new Database(file, { fileMustExist: true });
      other.prepare('SELECT count(*) FROM runs').get();
      other.close();
      walLeft = existsSync(`${file}-wal`);
    };
    const readSync = fs.readSync;
    vi.spyOn(fs, 'existsSync').mockImplementation((p) => {
      if (String(p) === `${file}-wal` && ++looks === 2) otherReader();
      return existsSync(p);
    });
    // The header read: 100 bytes (open-database.ts assertOursByHeader).
    const headerRead = (fd: number, buffer: NodeJS.ArrayBufferView, offset: number, length: number, position: number | null): number => {
      if (length === 100 && ++looks === 2) otherReader();
      return readSync(fd, buffer, offset, length, position);
    };
    vi.spyOn(fs, 'readSync').mockImplementation(headerRead as typeof fs.readSync);

    const { db, migration } = openDatabase(file, { mustExist: true, readOnly: true });
    try {
      expect(looks).toBe(2);
      expect(walLeft, 'the other reader\'s close deleted the WAL').toBe(false);
      expect(migration.toVersion).toBe(SCHEMA_VERSION);
      expect(db.prepare('SELECT count(*) AS n FROM runs').get()).toEqual({ n: 0 });
    } finally {
      db.close();
    }
  }, cliLimit(1));
});
