import { lstatSync } from 'node:fs';
import { lstat } from 'node:fs/promises';
import type { BigIntStats } from 'node:fs';
import { KmsRecoverError } from '../../errors/index.js';
import { sameIdentity } from '../../domain/index.js';
import type { FolderIdentity } from '../types.js';

/** A folder's identity: device and inode (on Windows, the volume serial number and the file ID). */
export function identityOf(stats: BigIntStats): FolderIdentity {
  return { dev: stats.dev.toString(), ino: stats.ino.toString() };
}

export { sameIdentity } from '../../domain/index.js';

/** The identity of the folder at `dir`, the link itself if it is one (never followed). */
export async function folderIdentity(dir: string): Promise<FolderIdentity> {
  return identityOf(await lstat(dir, { bigint: true }));
}

export function replaced(dir: string, expected: FolderIdentity, found: FolderIdentity | null): KmsRecoverError {
  return new KmsRecoverError('KMSDATA_REPLACED',
    `${dir} is no longer the folder checked at the start (device ${expected.dev} inode ${expected.ino}; now ${found ? `device ${found.dev} inode ${found.ino}` : 'gone'}): something replaced or moved it, so nothing more was changed; look at it, then run kms-recover resume`,
    { path: dir, expected, found });
}

/**
 * Runs `work` with the process's working folder set to `dir`, once `dir` is proved to be the
 * expected folder, and puts the working folder back afterwards. Inside, `work` names entries
 * relative to `.` (the folder itself, held by the process: swapping the path for a link or another
 * folder does not move it) and `..` (its parent), so no step of it goes through a path that can
 * be swapped. `assertPinned` re-checks both identities before each change.
 */
export async function withinPinnedFolder<T>(
  dir: string, expected: FolderIdentity | null,
  work: (pin: { self: FolderIdentity; parent: FolderIdentity; assertPinned: () => void }) => Promise<T>,
): Promise<T> {
  const previous = process.cwd();
  process.chdir(dir); // follows a link swapped in at this instant: the identity check below catches it
  try {
    // Synchronous: it runs before every 32 moves of a clear of thousands of entries.
    const look = (): { self: FolderIdentity; parent: FolderIdentity } => ({
      self: identityOf(lstatSync('.', { bigint: true })),
      parent: identityOf(lstatSync('..', { bigint: true })),
    });
    const { self, parent } = look();
    if (expected && !sameIdentity(self, expected)) throw replaced(dir, expected, self);
    const assertPinned = (): void => {
      const now = look();
      if (!sameIdentity(now.self, self) || !sameIdentity(now.parent, parent)) throw replaced(dir, self, now.self);
    };
    return await work({ self, parent, assertPinned });
  } finally {
    process.chdir(previous);
  }
}
