import fs from 'node:fs';
import path from 'node:path';
import { KmsRecoverError } from '../errors/index.js';

/** Writes the whole file or nothing (a temporary file renamed into place). */
export function writeFileWhole(file: string, text: string, what: string): void {
  const target = path.resolve(file);
  const temporary = `${target}.tmp-${process.pid}`;
  try {
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(temporary, text);
    fs.renameSync(temporary, target);
  } catch (error) {
    fs.rmSync(temporary, { force: true });
    const code = (error as NodeJS.ErrnoException).code;
    throw new KmsRecoverError(code === 'ENOENT' ? 'PATH_MISSING' : code === 'EISDIR' ? 'PATH_NOT_DIRECTORY' : 'PATH_UNSAFE',
      `cannot write ${what} to ${target}: ${(error as Error).message}`, { path: target });
  }
}
