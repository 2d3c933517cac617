import { describe, expect, it } from 'vitest';
import { stampOf, type FileMark } from '../../host/fs/file-stamp.js';

const mark = (over: Partial<FileMark> = {}): FileMark => ({ dev: 2049n, ino: 131n, mtimeNs: 1_700_000_000_000_000_000n, ctimeNs: 1_700_000_001_000_000_000n, ...over });

describe('stampOf', () => {
  it('changes with any file\'s identity, size or times', () => {
    const base = stampOf([{ path: 'a.edb', size: 10, mark: mark() }]);
    expect(base).toMatch(/^[0-9a-f]{64}$/);
    for (const changed of [
      { path: 'a.edb', size: 11, mark: mark() },
      { path: 'b.edb', size: 10, mark: mark() },
      { path: 'a.edb', size: 10, mark: mark({ ino: 132n }) },
      { path: 'a.edb', size: 10, mark: mark({ dev: 2050n }) },
      { path: 'a.edb', size: 10, mark: mark({ mtimeNs: 1n }) },
      { path: 'a.edb', size: 10, mark: mark({ ctimeNs: 1_700_000_001_000_000_001n }) },
    ]) expect(stampOf([changed])).not.toBe(base);
  });

  it('gives none where the file system has no inode number or change time (FAT): every check then hashes', () => {
    expect(stampOf([{ path: 'a.edb', size: 10, mark: mark({ ino: 0n }) }])).toBeNull();
    expect(stampOf([{ path: 'a.edb', size: 10, mark: mark({ ctimeNs: 0n }) }])).toBeNull();
    expect(stampOf([{ path: 'a.edb', size: 10, mark: undefined }])).toBeNull();
  });
});
