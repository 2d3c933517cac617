import { createHash } from 'node:crypto';
import type { BigIntStats } from 'node:fs';

/**
 * What a later check needs to know a file is the very one the restore wrote, unchanged since:
 * its device and inode (the same file, not another put in its place), its size, and its
 * modification and change times. The change time cannot be set by a program: any write, truncation,
 * rename over it or change of its protection moves it.
 */
export interface FileMark {
  dev: bigint;
  ino: bigint;
  mtimeNs: bigint;
  ctimeNs: bigint;
}

export function fileMark(stats: BigIntStats): FileMark {
  return { dev: stats.dev, ino: stats.ino, mtimeNs: stats.mtimeNs, ctimeNs: stats.ctimeNs };
}

/**
 * The stamp of a tree's files: SHA-256 over each file's path, size and mark, in the order given
 * (the manifest's: the restore and the checks walk it the same way). Null when a file system does
 * not give every file an inode number and a change time (FAT): there a match of times proves
 * nothing, and every check hashes the bytes.
 */
export function stampOf(files: readonly { path: string; size: number; mark: FileMark | undefined }[]): string | null {
  const hash = createHash('sha256');
  for (const { path, size, mark } of files) {
    if (mark === undefined || mark.ino === 0n || mark.ctimeNs === 0n) return null;
    hash.update(`F ${path} ${size} ${mark.dev} ${mark.ino} ${mark.mtimeNs} ${mark.ctimeNs}\n`);
  }
  return hash.digest('hex');
}
