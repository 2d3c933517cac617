import { readFileSync } from 'node:fs';
import { lstat, open, readdir, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { KmsRecoverError } from '../../errors/index.js';
import type { ServerRecovery } from '../types.js';
import { besideKmsdata, hasStringFields } from './beside-kmsdata.js';
import { errnoOf } from './file-errors.js';

// durable.ts is loaded when a record is written: `status` only reads it (cold start).
const fsyncDir = async (dir: string) => (await import('./durable.js')).fsyncDir(dir);

/**
 * The record a finished recovery leaves beside Kmsdata, in `Exchsrvr`: which run recovered the
 * server, when, from which database (never a secret). A stale run of the same server (its claim
 * removed by hand, the server recovered by another run meanwhile) reads it and stops before it
 * touches the service.
 */
export const RECOVERY_RECORD_FILE = 'kms-recover.recovered';
const MAX_RECORD_BYTES = 16 * 1024;

export function recoveryRecordPathFor(kmsdata: string): string {
  return besideKmsdata(kmsdata, RECOVERY_RECORD_FILE);
}

function isRecovery(value: unknown): value is ServerRecovery {
  return hasStringFields(value, ['runId', 'db', 'host', 'recoveredAt', 'kmsdata']);
}

/** The record, if there is one that can be read as such; null otherwise. Read-only. */
export function recoveryRecordNow(kmsdata: string): ServerRecovery | null {
  try {
    const buffer = readFileSync(recoveryRecordPathFor(kmsdata));
    if (buffer.length > MAX_RECORD_BYTES) return null;
    const parsed: unknown = JSON.parse(buffer.toString('utf8'));
    return isRecovery(parsed) ? parsed : null;
  } catch {
    return null;
  }
}

/** Writes the record whole under a temporary name, flushes it, and renames it into place (replacing an older one). */
export async function recordRecovery(kmsdata: string, record: ServerRecovery): Promise<void> {
  const file = recoveryRecordPathFor(kmsdata);
  const temp = `${file}.${process.pid}.tmp`;
  try {
    const handle = await open(temp, 'w', 0o600);
    try {
      await handle.writeFile(`${JSON.stringify(record, null, 2)}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, file);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw new KmsRecoverError('PATH_UNSAFE', `cannot write the recovery record ${file}: ${errnoOf(error) ?? String(error)}`, { path: file }, { cause: error });
  }
  await removeCutOffTemps(file);
  await fsyncDir(path.dirname(file));
}

/**
 * The temporary records an earlier finish left when it was cut off between writing and renaming
 * (a power loss): only the run holding the server's claim writes the record, so once this one is
 * in place any other `<record>.<pid>.tmp` beside it is such a leftover.
 */
async function removeCutOffTemps(file: string): Promise<void> {
  const dir = path.dirname(file);
  const prefix = `${path.basename(file)}.`;
  for (const name of await readdir(dir).catch(() => [])) {
    if (!name.startsWith(prefix) || !/^\d+\.tmp$/.test(name.slice(prefix.length))) continue;
    const full = path.join(dir, name);
    if ((await lstat(full).catch(() => null))?.isFile()) await unlink(full).catch(() => undefined);
  }
}
