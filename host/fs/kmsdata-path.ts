import { constants, lstatSync, realpath as realpathCallback, realpathSync } from 'node:fs';
import { access } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { KmsRecoverError } from '../../errors/index.js';
import { errnoOf } from './file-errors.js';
import { listTree } from './manifest.js';

const isWindows = process.platform === 'win32';

// The JavaScript realpath (fs.realpath, fs.realpathSync) resolves links component by component;
// the native one (fs.promises, .native) would also turn mapped or SUBST drives into their targets
// and report a link that is not there.
const realpath = promisify(realpathCallback);

/**
 * The path rules of the platform the tool runs on: `path.win32` on Windows (drive letters,
 * `\\` separators, case-insensitive names). A parameter so the Windows rules are tested anywhere.
 */
type PathApi = path.PlatformPath;

/** Same path? Case-insensitive where the file system is (Windows). */
export function samePath(a: string, b: string, p: PathApi = path): boolean {
  return p.sep === '\\' ? a.toLowerCase() === b.toLowerCase() : a === b;
}

/** True when `child` lies strictly inside `parent` (both absolute). path.win32.relative ignores case. */
export function isInside(child: string, parent: string, p: PathApi = path): boolean {
  const rel = p.relative(parent, child);
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${p.sep}`) && !p.isAbsolute(rel);
}

/*
 * The checks of one folder are synchronous: a few system calls, fewer than a round trip each
 * through libuv's thread pool costs (they begin every clear, restore and verify).
 */
function lstatOrThrow(resolved: string, what: string): Stats {
  try {
    return lstatSync(resolved);
  } catch (error) {
    const code = errnoOf(error);
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new KmsRecoverError('PATH_MISSING', `${what} ${resolved} does not exist`, { path: resolved }, { cause: error });
    }
    throw new KmsRecoverError('PATH_UNSAFE', `${what} ${resolved} cannot be examined: ${code ?? String(error)}`, { path: resolved, errno: code }, { cause: error });
  }
}

/** Exists, is a real folder (not a link), and no link anywhere along its path. */
function assertPlainDirectory(resolved: string, what: string): void {
  const stats = lstatOrThrow(resolved, what);
  if (stats.isSymbolicLink()) {
    throw new KmsRecoverError('PATH_UNSAFE', `${what} ${resolved} is a symbolic link; give the real folder`, { path: resolved });
  }
  if (!stats.isDirectory()) {
    throw new KmsRecoverError('PATH_NOT_DIRECTORY', `${what} ${resolved} is a file, not a folder`, { path: resolved });
  }
  let real: string;
  try {
    real = realpathSync(resolved);
  } catch (error) {
    // The path changed between the two looks (a link put in its place, say): say so, never a raw errno.
    throw new KmsRecoverError('PATH_UNSAFE', `${what} ${resolved} changed while it was being checked (${errnoOf(error) ?? String(error)}): look at it, then try again`, { path: resolved, errno: errnoOf(error) }, { cause: error });
  }
  if (!samePath(real, resolved)) {
    throw new KmsRecoverError('PATH_UNSAFE', `${what} ${resolved} goes through a symbolic link (it is really ${real}); give the real path`, { path: resolved, realPath: real });
  }
}

/** The lexical checks alone: `...\Exchsrvr\Kmsdata`, not a root. Works on a path that does not exist. */
export function assertKmsdataName(resolved: string, p: PathApi = path): void {
  if (p.parse(resolved).root === resolved) {
    throw new KmsRecoverError('NOT_KMSDATA', `${resolved} is a file system root, not a Kmsdata folder`, { path: resolved });
  }
  const parent = p.dirname(resolved);
  if (p.basename(resolved).toLowerCase() !== 'kmsdata' || p.basename(parent).toLowerCase() !== 'exchsrvr') {
    throw new KmsRecoverError('NOT_KMSDATA', `${resolved} is not a Kmsdata folder: expected ...\\Exchsrvr\\Kmsdata`, { path: resolved });
  }
}

/** Returns the resolved absolute Kmsdata path, or throws if it is not plainly one. */
export async function assertKmsdataPath(p: string): Promise<string> {
  const resolved = path.resolve(p);
  assertPlainDirectory(resolved, 'Kmsdata folder');
  assertKmsdataName(resolved);
  return resolved;
}

/** Returns the resolved absolute backup path, or throws if it cannot safely be restored from. */
export async function assertBackupPath(backup: string, kmsdata: string): Promise<string> {
  const resolved = path.resolve(backup);
  const stats = lstatOrThrow(resolved, 'backup');
  if (stats.isSymbolicLink()) {
    throw new KmsRecoverError('PATH_UNSAFE', `backup ${resolved} is a symbolic link; give the real folder`, { path: resolved });
  }
  if (!stats.isDirectory()) {
    throw new KmsRecoverError('PATH_NOT_DIRECTORY', `backup ${resolved} is a file, not a folder`, { path: resolved });
  }
  try {
    await access(resolved, constants.R_OK | (isWindows ? 0 : constants.X_OK));
  } catch (error) {
    throw new KmsRecoverError('BACKUP_INVALID', `backup ${resolved} cannot be read: ${errnoOf(error) ?? String(error)}`, { path: resolved }, { cause: error });
  }

  const realBackup = await realpath(resolved);
  const kmsResolved = path.resolve(kmsdata);
  const realKms = await realpath(kmsResolved).catch(() => kmsResolved);
  for (const [b, k] of [[resolved, kmsResolved], [realBackup, realKms]] as const) {
    if (samePath(b, k) || isInside(b, k) || isInside(k, b)) {
      throw new KmsRecoverError('PATH_UNSAFE', `backup ${resolved} overlaps Kmsdata ${kmsResolved}: the backup must be a separate copy`, { path: resolved, kmsdata: kmsResolved });
    }
  }

  let files = 0;
  for (const entry of await listTree(resolved, { sizes: false })) {
    if (entry.kind === 'file') files += 1;
    if (entry.kind !== 'symlink') continue;
    const target = await realpath(entry.fullPath).catch(() => undefined);
    if (target === undefined || !isInside(target, realBackup)) {
      throw new KmsRecoverError('PATH_UNSAFE', `backup ${resolved} holds a symbolic link ${entry.fullPath} that points outside it`, { path: resolved, link: entry.fullPath });
    }
  }
  if (files === 0) {
    throw new KmsRecoverError('BACKUP_INVALID', `backup ${resolved} is empty: it holds no files`, { path: resolved });
  }
  return resolved;
}
