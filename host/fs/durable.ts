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

/**
 * A file another program holds: EBUSY everywhere; on Windows a sharing violation also comes back
 * as EPERM or EACCES. Elsewhere those two mean what they say: permission denied.
 */
export function isInUse(code: string | undefined, platform: NodeJS.Platform = process.platform): boolean {
  return code === 'EBUSY' || (platform === 'win32' && (code === 'EPERM' || code === 'EACCES'));
}

export function isAccessDenied(code: string | undefined, platform: NodeJS.Platform = process.platform): boolean {
  return platform !== 'win32' && (code === 'EPERM' || code === 'EACCES');
}
