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

/**
 * The disk (or its file system) failed the call, whoever made it: an I/O error, a full disk, a
 * file system remounted read-only... Never the tool's bug: FILE_IO, naming the file and the call.
 */
const DISK_ERRNOS: Readonly<Record<string, string>> = {
  EIO: 'the disk reported an I/O error',
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is used up',
  EROFS: 'the file system is read-only',
  EFBIG: 'the file is too large for its file system',
  ENXIO: 'the device is gone',
  ENODEV: 'the device is gone',
  ESTALE: 'the network file system lost the file',
  EREMOTEIO: 'the remote disk reported an I/O error',
};

export function isDiskError(code: string | undefined): boolean {
  return code !== undefined && Object.hasOwn(DISK_ERRNOS, code);
}

/** `the disk reported an I/O error (EIO in fsync)`: what failed, and the call that met it. */
function diskWords(error: unknown, errno: string): string {
  const syscall = (error as NodeJS.ErrnoException | undefined)?.syscall;
  return `${DISK_ERRNOS[errno]} (${errno}${syscall ? ` in ${syscall}` : ''})`;
}

/**
 * The last word on an error of the file system met anywhere (a step, a command): a disk error
 * becomes FILE_IO naming the file and the call as Node reports them; anything else is returned
 * as it is. Code that knows the file it was working on says so with fileError instead.
 */
export function asFileIoError(error: unknown): unknown {
  const errno = errnoOf(error);
  if (!isDiskError(errno)) return error;
  const { path: file, dest, syscall } = error as NodeJS.ErrnoException & { dest?: string };
  const what = file ? ` ${file}${dest ? ` -> ${dest}` : ''}` : '';
  return new KmsRecoverError('FILE_IO', `the disk failed a ${syscall ?? 'file operation'}${what}: ${diskWords(error, errno!)}`,
    { ...(file ? { file } : {}), errno, syscall }, { cause: error });
}

/** Why a file operation failed, as far as the administrator can act on it. */
export type FileFailure = 'in-use' | 'denied' | 'cross-device' | 'disk' | 'other';

/** What a move that failed with EXDEV means, in words: the two folders are on different file systems. */
export const CROSS_DEVICE_WORDS = 'the two folders are on different file systems (a mount point, a junction to another disk or a mounted folder lies between them), and a folder can only be moved within one volume';

/**
 * The tool's error for a failed file operation: FILE_IN_USE when another program holds the file,
 * ACCESS_DENIED when the user may not touch it, CROSS_DEVICE when a move crosses file systems
 * (EXDEV; `say` gets CROSS_DEVICE_WORDS as its `why`), FILE_IO when the disk failed, STEP_FAILED
 * otherwise; `detail` (which names the file) gets the errno and the call, and `say` words the
 * message for each case (`why`: the errno, for a disk error with its words and the call, or the
 * error itself when it has none).
 */
export function fileError(
  error: unknown, detail: { file: string } & Record<string, unknown>,
  say: (failure: FileFailure, why: string) => string,
): KmsRecoverError {
  if (error instanceof KmsRecoverError) return error;
  const errno = errnoOf(error);
  const failure: FileFailure = isInUse(errno) ? 'in-use' : isAccessDenied(errno) ? 'denied'
    : errno === 'EXDEV' ? 'cross-device' : isDiskError(errno) ? 'disk' : 'other';
  const code = failure === 'in-use' ? 'FILE_IN_USE' : failure === 'denied' ? 'ACCESS_DENIED'
    : failure === 'cross-device' ? 'CROSS_DEVICE' : failure === 'disk' ? 'FILE_IO' : 'STEP_FAILED';
  const why = failure === 'cross-device' ? CROSS_DEVICE_WORDS : failure === 'disk' ? diskWords(error, errno!) : errno ?? String(error);
  const syscall = (error as NodeJS.ErrnoException | undefined)?.syscall;
  return new KmsRecoverError(code, say(failure, why), { ...detail, errno, ...(syscall ? { syscall } : {}) }, { cause: error });
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
