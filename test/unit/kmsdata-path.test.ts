import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { assertBackupPath, assertKmsdataPath } from '../../host/fs/kmsdata-path.js';
import { rejection } from '../helpers/rejection.js';


let tmp: string;

beforeEach(async () => {
  // realpath: on some systems the temp folder itself sits behind a link.
  tmp = await realpath(await mkdtemp(path.join(os.tmpdir(), 'kms-path-')));
});

afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function makeKmsdata(parent = 'Exchsrvr', name = 'Kmsdata'): Promise<string> {
  const dir = path.join(tmp, parent, name);
  await mkdir(dir, { recursive: true });
  return dir;
}

async function makeBackup(name = 'backup'): Promise<string> {
  const dir = path.join(tmp, name);
  await mkdir(path.join(dir, 'sub'), { recursive: true });
  await writeFile(path.join(dir, 'sub', 'KMSMAIL.EDB'), 'database');
  return dir;
}

describe('assertKmsdataPath', () => {
  it('accepts <tmp>/Exchsrvr/Kmsdata and returns it resolved', async () => {
    const dir = await makeKmsdata();
    await expect(assertKmsdataPath(dir)).resolves.toBe(dir);
    const relative = path.relative(process.cwd(), dir);
    await expect(assertKmsdataPath(relative)).resolves.toBe(dir);
  });

  it('accepts <tmp>/EXCHSRVR/KMSDATA (names are case-insensitive)', async () => {
    const dir = await makeKmsdata('EXCHSRVR', 'KMSDATA');
    await expect(assertKmsdataPath(dir)).resolves.toBe(dir);
  });

  it('rejects a missing folder', async () => {
    const dir = path.join(tmp, 'Exchsrvr', 'Kmsdata');
    const error = await rejection(assertKmsdataPath(dir));
    expect(error.code).toBe('PATH_MISSING');
    expect(error.message).toContain(dir);
  });

  it('rejects a file', async () => {
    await mkdir(path.join(tmp, 'Exchsrvr'));
    const file = path.join(tmp, 'Exchsrvr', 'Kmsdata');
    await writeFile(file, 'not a folder');
    const error = await rejection(assertKmsdataPath(file));
    expect(error.code).toBe('PATH_NOT_DIRECTORY');
    expect(error.message).toContain(file);
  });

  it.each([
    ['Exchsrvr', 'Kmsdata2'],
    ['Exchange', 'Kmsdata'],
    ['Exchsrvr', 'Mdbdata'],
  ])('rejects a wrong name (%s/%s)', async (parent, name) => {
    const dir = await makeKmsdata(parent, name);
    const error = await rejection(assertKmsdataPath(dir));
    expect(error.code).toBe('NOT_KMSDATA');
    expect(error.message).toBe(`${dir} is not a Kmsdata folder: expected ...\\Exchsrvr\\Kmsdata`);
  });

  it('rejects a file system root', async () => {
    const error = await rejection(assertKmsdataPath(path.parse(tmp).root));
    expect(error.code).toBe('NOT_KMSDATA');
  });

  it('rejects a Kmsdata that is a symbolic link', async () => {
    const real = path.join(tmp, 'real', 'Exchsrvr', 'Kmsdata');
    await mkdir(real, { recursive: true });
    await mkdir(path.join(tmp, 'Exchsrvr'));
    const link = path.join(tmp, 'Exchsrvr', 'Kmsdata');
    await symlink(real, link, 'dir');
    const error = await rejection(assertKmsdataPath(link));
    expect(error.code).toBe('PATH_UNSAFE');
    expect(error.message).toContain(link);
  });

  it('rejects a Kmsdata reached through a linked parent folder', async () => {
    const real = path.join(tmp, 'real', 'Exchsrvr', 'Kmsdata');
    await mkdir(real, { recursive: true });
    await symlink(path.join(tmp, 'real', 'Exchsrvr'), path.join(tmp, 'Exchsrvr'), 'dir');
    const error = await rejection(assertKmsdataPath(path.join(tmp, 'Exchsrvr', 'Kmsdata')));
    expect(error.code).toBe('PATH_UNSAFE');
  });
});

describe('assertBackupPath', () => {
  it('accepts a separate, non-empty backup and returns it resolved', async () => {
    const kmsdata = await makeKmsdata();
    const backup = await makeBackup();
    await expect(assertBackupPath(backup, kmsdata)).resolves.toBe(backup);
  });

  it('rejects a missing backup', async () => {
    const kmsdata = await makeKmsdata();
    const error = await rejection(assertBackupPath(path.join(tmp, 'nowhere'), kmsdata));
    expect(error.code).toBe('PATH_MISSING');
  });

  it('rejects a backup that is a file', async () => {
    const kmsdata = await makeKmsdata();
    const file = path.join(tmp, 'backup.zip');
    await writeFile(file, 'zip');
    const error = await rejection(assertBackupPath(file, kmsdata));
    expect(error.code).toBe('PATH_NOT_DIRECTORY');
  });

  it('rejects backup == kmsdata', async () => {
    const kmsdata = await makeKmsdata();
    await writeFile(path.join(kmsdata, 'KMSMAIL.EDB'), 'x');
    const error = await rejection(assertBackupPath(kmsdata, kmsdata));
    expect(error.code).toBe('PATH_UNSAFE');
    expect(error.message).toContain('the backup must be a separate copy');
    expect(error.message).toContain(kmsdata);
  });

  it('rejects a backup inside kmsdata', async () => {
    const kmsdata = await makeKmsdata();
    const backup = path.join(kmsdata, 'old');
    await mkdir(backup);
    await writeFile(path.join(backup, 'KMSMAIL.EDB'), 'x');
    const error = await rejection(assertBackupPath(backup, kmsdata));
    expect(error.code).toBe('PATH_UNSAFE');
    expect(error.message).toContain('the backup must be a separate copy');
  });

  it('rejects a backup that contains kmsdata', async () => {
    const kmsdata = await makeKmsdata();
    await writeFile(path.join(kmsdata, 'KMSMAIL.EDB'), 'x');
    const error = await rejection(assertBackupPath(tmp, kmsdata));
    expect(error.code).toBe('PATH_UNSAFE');
  });

  it('rejects an empty backup (folders but no file)', async () => {
    const kmsdata = await makeKmsdata();
    const backup = path.join(tmp, 'backup');
    await mkdir(path.join(backup, 'empty', 'deeper'), { recursive: true });
    const error = await rejection(assertBackupPath(backup, kmsdata));
    expect(error.code).toBe('BACKUP_INVALID');
    expect(error.message).toBe(`backup ${backup} is empty: it holds no files`);
  });

  it('rejects a backup that is a symbolic link', async () => {
    const kmsdata = await makeKmsdata();
    const backup = await makeBackup();
    const link = path.join(tmp, 'backup-link');
    await symlink(backup, link, 'dir');
    const error = await rejection(assertBackupPath(link, kmsdata));
    expect(error.code).toBe('PATH_UNSAFE');
  });

  it('rejects a link inside the backup that points outside it', async () => {
    const kmsdata = await makeKmsdata();
    const backup = await makeBackup();
    const outside = path.join(tmp, 'secret.txt');
    await writeFile(outside, 'outside');
    await symlink(outside, path.join(backup, 'sub', 'escape.txt'), 'file');
    const error = await rejection(assertBackupPath(backup, kmsdata));
    expect(error.code).toBe('PATH_UNSAFE');
    expect(error.message).toContain(path.join(backup, 'sub', 'escape.txt'));
  });
});
