import { stat } from 'node:fs/promises';
import path from 'node:path';
import { KMS_DATABASE_FILE } from '../../domain/index.js';
import type { FolderIdentity } from '../types.js';
import { identityOf } from './pinned-folder.js';

/**
 * The identity of `kmsdata.edb` in `kmsdata` (device and inode; Windows: volume serial number
 * and file ID), null when there is none. A stat only asks for the file's attributes, which
 * Windows grants even while the KMS holds the file without sharing.
 */
export async function databaseIdentity(kmsdata: string): Promise<FolderIdentity | null> {
  try {
    return identityOf(await stat(path.join(kmsdata, KMS_DATABASE_FILE), { bigint: true }));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}
