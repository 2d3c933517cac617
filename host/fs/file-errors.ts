/**
 * How a failed file operation is told, once for every file operation of host/fs: the errno, the
 * classification (another program holds the file, or the user may not touch it), the tool's error
 * naming the file, and the one retry while a file is briefly held.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { KmsRecoverError } from '../../errors/index.js';

export function errnoOf(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
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

/** Why a file operation failed, as far as the administrator can act on it. */
export type FileFailure = 'in-use' | 'denied' | 'cross-device' | 'other';

/** What a move that failed with EXDEV means, in words: the two folders are on different file systems. */
export const CROSS_DEVICE_WORDS = 'the two folders are on different file systems (a mount point, a junction to another disk or a mounted folder lies between them), and a folder can only be moved within one volume';

/**
 * The tool's error for a failed file operation: FILE_IN_USE when another program holds the file,
 * ACCESS_DENIED when the user may not touch it, CROSS_DEVICE when a move crosses file systems
 * (EXDEV; `say` gets CROSS_DEVICE_WORDS as its `code`), STEP_FAILED otherwise; `detail` (which names the
 * file) gets the errno, and `say` words the message for each case (`code`: the errno, or the
 * error itself when it has none).
 */
export function fileError(
  error: unknown, detail: { file: string } & Record<string, unknown>,
  say: (failure: FileFailure, code: string) => string,
): KmsRecoverError {
  const errno = errnoOf(error);
  const failure: FileFailure = isInUse(errno) ? 'in-use' : isAccessDenied(errno) ? 'denied' : errno === 'EXDEV' ? 'cross-device' : 'other';
  const code = failure === 'in-use' ? 'FILE_IN_USE' : failure === 'denied' ? 'ACCESS_DENIED' : failure === 'cross-device' ? 'CROSS_DEVICE' : 'STEP_FAILED';
  const why = failure === 'cross-device' ? CROSS_DEVICE_WORDS : errno ?? String(error);
  return new KmsRecoverError(code, say(failure, why), { ...detail, errno }, { cause: error });
}

/**
 * Runs `action`, and again after each of `waitsMs` while it fails because a file is in use:
 * Windows briefly refuses renames and deletes while a scanner or an indexer holds a handle.
 * The last failure is thrown as it is.
 */
export async function retryWhileInUse<T>(action: () => T | Promise<T>, waitsMs: readonly number[]): Promise<T> {
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await action();
    } catch (error) {
      if (attempt >= waitsMs.length || !isInUse(errnoOf(error))) throw error;
      await sleep(waitsMs[attempt]);
    }
  }
}
