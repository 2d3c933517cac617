import { close, fsync, open } from 'node:fs';

const isWindows = process.platform === 'win32';

/**
 * Opens `target`, flushes it to disk and closes it. Plain callbacks, not a FileHandle (an event
 * emitter and a promise per call): a restore flushes every one of its thousands of files.
 */
function flush(target: string, flags: 'r' | 'r+'): Promise<void> {
  return new Promise((resolve, reject) => {
    open(target, flags, (openError, fd) => {
      if (openError) return reject(openError);
      fsync(fd, (syncError) => close(fd, (closeError) => {
        const error = syncError ?? closeError;
        if (error) reject(error);
        else resolve();
      }));
    });
  });
}

/** Flushes a written file to disk (a fresh handle reaches the same file data; Windows needs it writable). */
export function fsyncFile(file: string): Promise<void> {
  return flush(file, 'r+');
}

/** Makes a folder's entries durable; Windows cannot open a folder for this, and needs no call. */
export async function fsyncDir(dir: string): Promise<void> {
  if (isWindows) return;
  // Best effort: some file systems refuse fsync on a folder.
  await flush(dir, 'r').catch(() => undefined);
}
