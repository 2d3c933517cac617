import fs from 'node:fs';
import path from 'node:path';
import { KmsRecoverError } from '../errors/index.js';

/**
 * Writes the whole file or nothing (a temporary file renamed into place). The folder must
 * exist: a mistyped folder is the operator's error to see, not one to create.
 */
export function writeFileWhole(file: string, text: string, what: string): void {
  const target = path.resolve(file);
  const folder = path.dirname(target);
  const temporary = `${target}.tmp-${process.pid}`;
  try {
    fs.writeFileSync(temporary, text);
    fs.renameSync(temporary, target);
  } catch (error) {
    if (fs.existsSync(temporary)) fs.rmSync(temporary, { force: true });
    const code = error instanceof Error && 'code' in error ? error.code : undefined;
    if (code === 'ENOENT') {
      throw new KmsRecoverError('PATH_MISSING', `cannot write ${what} to ${target}: the folder ${folder} does not exist`, { path: target });
    }
    if (code === 'ENOTDIR') {
      throw new KmsRecoverError('PATH_NOT_DIRECTORY', `cannot write ${what} to ${target}: ${folder} is not a folder`, { path: target });
    }
    throw new KmsRecoverError(code === 'EISDIR' ? 'PATH_NOT_DIRECTORY' : 'PATH_UNSAFE',
      `cannot write ${what} to ${target}: ${error instanceof Error ? error.message : String(error)}`, { path: target });
  }
}
