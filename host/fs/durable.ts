import { open } from 'node:fs/promises';

const isWindows = process.platform === 'win32';

export function errnoOf(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

/** Makes a folder's entries durable; Windows cannot open a folder for this, and needs no call. */
export async function fsyncDir(dir: string): Promise<void> {
  if (isWindows) return;
  try {
    const handle = await open(dir, 'r');
    try { await handle.sync(); } finally { await handle.close(); }
  } catch {
    // Best effort: some file systems refuse fsync on a folder.
  }
}
