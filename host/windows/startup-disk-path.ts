import path from 'node:path';
import { STARTUP_DISK_FILE } from '../../domain/index.js';

/**
 * The startup disk as Windows names it: a drive alone (`A:` or `A:\`) means `A:\Kmspwd.ini`,
 * as the KMS itself looks for it; anything else is taken as the path of the file
 * (`A:\Kmspwd.ini`, `D:\copies\Kmspwd.ini`, `\\server\share\Kmspwd.ini`).
 */
export function startupDiskFile(arg: string, p: path.PlatformPath = path.win32): string {
  const drive = /^([A-Za-z]):[\\/]?$/.exec(arg.trim());
  if (drive?.[1]) return p.join(`${drive[1].toUpperCase()}:\\`, STARTUP_DISK_FILE);
  return arg;
}
