import { close, fsync, open } from 'node:fs';
import path from 'node:path';
import { errnoOf, fileError, isDiskError } from './file-errors.js';

const isWindows = process.platform === 'win32';

/**
 * Opens `target`, flushes it to disk, closes it, then calls `done` (with the first error). Plain
 * callbacks, not a FileHandle (an event emitter and a promise per call), nor a promise of its
 * own: a restore flushes every one of its thousands of files.
 */
export function flushThen(target: string, flags: 'r' | 'r+', done: (error: NodeJS.ErrnoException | null) => void): void {
  open(target, flags, (openError, fd) => {
    if (openError) return done(openError);
    fsync(fd, (syncError) => close(fd, (closeError) => done(syncError ?? closeError)));
  });
}

function flush(target: string, flags: 'r' | 'r+'): Promise<void> {
  return new Promise((resolve, reject) => flushThen(target, flags, (error) => (error ? reject(error) : resolve())));
}

/**
 * Makes a folder's entries durable; Windows cannot open a folder for this, and needs no call.
 * Some file systems refuse fsync on a folder (EINVAL...): that is no failure. A disk that fails
 * it (EIO, ENOSPC...) is: what was just moved or created may not survive a power loss.
 */
export async function fsyncDir(dir: string): Promise<void> {
  if (isWindows) return;
  await flush(dir, 'r').catch((error: unknown) => {
    if (isDiskError(errnoOf(error))) {
      throw fileError(error, { file: dir }, (_failure, why) => `cannot flush the folder ${path.resolve(dir)} to disk: ${why}`);
    }
  });
}
