import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { KmsRecoverError } from '../../errors/index.js';
import type { ClearReport } from '../types.js';
import { assertKmsdataPath } from './kmsdata-path.js';

const IN_USE = new Set(['EBUSY', 'EPERM', 'EACCES']);

/** Deletes everything inside Kmsdata, never Kmsdata itself. An empty Kmsdata is left as is. */
export async function clearKmsdata(kmsdata: string): Promise<ClearReport> {
  const dir = await assertKmsdataPath(kmsdata);
  let removed = 0;
  for (const name of await readdir(dir)) {
    const entry = path.join(dir, name);
    try {
      // rm deletes a link, never what it points to; the retries cover brief Windows sharing locks.
      await rm(entry, { recursive: true, force: true, maxRetries: 2, retryDelay: 100 });
    } catch (error) {
      const err = error as NodeJS.ErrnoException;
      const file = typeof err.path === 'string' ? err.path : entry;
      if (err.code !== undefined && IN_USE.has(err.code)) {
        throw new KmsRecoverError('FILE_IN_USE', `cannot delete ${file}: the file is in use (is the KMS service still running?)`, { file, errno: err.code, removed }, { cause: error });
      }
      throw new KmsRecoverError('STEP_FAILED', `cannot delete ${file}: ${err.code ?? String(error)}`, { file, errno: err.code, removed }, { cause: error });
    }
    removed += 1;
  }
  const remaining = (await readdir(dir)).length;
  return { removed, remaining };
}
