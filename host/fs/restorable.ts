import { statfs } from 'node:fs/promises';
import path from 'node:path';
import { KmsRecoverError } from '../../errors/index.js';
import type { Manifest } from '../types.js';
import { stagingPathFor, validateManifest } from './restore-kmsdata.js';

/** Names Windows cannot hold: reserved device names, and characters it refuses. */
const WINDOWS_RESERVED = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$/i;
const WINDOWS_BAD_CHARS = /[<>:"|?*\u0000-\u001f]/;
/** MAX_PATH without the long-path prefix (what Windows NT 4.0 and 2000 allow), minus the terminator. */
const WINDOWS_MAX_PATH = 259;
const POSIX_MAX_NAME_BYTES = 255;
const POSIX_MAX_PATH_BYTES = 4095;

/** Kmsdata lives on a Windows file system when the tool runs there or reaches it by UNC path. */
function windowsTarget(kmsdata: string): boolean {
  return process.platform === 'win32' || kmsdata.startsWith('\\\\');
}

function refuse(reason: string, detail: Record<string, unknown>): KmsRecoverError {
  return new KmsRecoverError('BACKUP_INVALID', `the backup cannot be restored into this Kmsdata: ${reason}; nothing was changed`, detail);
}

/**
 * Everything that could stop the restore after Kmsdata was emptied, checked before anything
 * changes: a manifest whose paths are plain and consistent, names and path lengths the target
 * file system holds (the longest is the staging copy's), and free space for the backup's bytes.
 */
export async function checkRestorable(kmsdata: string, manifest: Manifest, runIdLength = 8): Promise<void> {
  const windows = windowsTarget(kmsdata);
  const staging = stagingPathFor(kmsdata, 'x'.repeat(runIdLength));
  for (const rel of [...manifest.dirs, ...manifest.files.map((f) => f.path)]) {
    const parts = rel.split('/');
    // A Kmsdata folder is a Windows one: a backslash there is a folder separator, never part of a name.
    const separator = parts.find((part) => part.includes('\\'));
    if (separator !== undefined) throw refuse(`the name ${JSON.stringify(separator)} holds a backslash, which Windows reads as a folder separator`, { path: rel });
    if (windows) {
      const bad = parts.find((part) => WINDOWS_RESERVED.test(part) || WINDOWS_BAD_CHARS.test(part) || /[. ]$/.test(part));
      if (bad !== undefined) throw refuse(`the name ${JSON.stringify(bad)} (in ${rel}) cannot be held by Windows`, { path: rel });
      if (staging.length + 1 + rel.length > WINDOWS_MAX_PATH) {
        throw refuse(`${rel} would be ${staging.length + 1 + rel.length} characters long under ${staging}; Windows allows ${WINDOWS_MAX_PATH}`, { path: rel });
      }
    } else {
      const long = parts.find((part) => Buffer.byteLength(part) > POSIX_MAX_NAME_BYTES);
      if (long !== undefined) throw refuse(`a name in ${rel} is longer than ${POSIX_MAX_NAME_BYTES} bytes`, { path: rel });
      if (Buffer.byteLength(path.join(staging, ...parts)) > POSIX_MAX_PATH_BYTES) throw refuse(`${rel} would make a path longer than ${POSIX_MAX_PATH_BYTES} bytes`, { path: rel });
    }
  }
  validateManifest(manifest);
  const parent = path.dirname(path.resolve(kmsdata));
  const space = await statfs(parent).catch(() => undefined);
  if (space) {
    const free = space.bavail * space.bsize;
    // The copy is made beside Kmsdata while the reinstall's files wait in the quarantine (same volume).
    const needed = manifest.totalBytes + manifest.files.length * space.bsize;
    if (free < needed) {
      throw refuse(`the volume of ${parent} has ${free} bytes free; the backup needs about ${needed}`, { free, needed, path: parent });
    }
  }
}
