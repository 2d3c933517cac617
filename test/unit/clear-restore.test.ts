import { createHash, randomBytes } from 'node:crypto';
import { openSync, readdirSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, readFile, rename, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { clearKmsdata } from '../../host/fs/clear-kmsdata.js';
import { deletionFolderName, removeQuarantine } from '../../host/fs/remove-quarantine.js';
import { buildManifest, compareToManifest } from '../../host/fs/manifest.js';
import { COPY_BUFFER_BYTES, copyAndHash, newReader, Turns } from '../../host/fs/copy-hash.js';
import { describeEntry } from '../../host/fs/quarantine-ledger.js';
import { restoreKmsdata, stagingPathFor } from '../../host/fs/restore-kmsdata.js';
import type { ClearOptions, FolderIdentity, LedgerEntry } from '../../host/types.js';
import { folderIdentity } from '../../host/fs/pinned-folder.js';
import type { Manifest } from '../../host/types.js';
import { rejection } from '../helpers/rejection.js';

let tmp: string;
let exchsrvr: string;
let kmsdata: string;
let staging: string;
let backup: string;


async function exists(p: string): Promise<boolean> {
  return stat(p).then(() => true, () => false);
}

/** Every file and folder under `dir`, with the bytes of each file. */
async function snapshot(dir: string): Promise<Map<string, Buffer | 'dir'>> {
  const result = new Map<string, Buffer | 'dir'>();
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    const full = path.join(entry.parentPath, entry.name);
    const rel = path.relative(dir, full).split(path.sep).join('/');
    result.set(rel, entry.isDirectory() ? 'dir' : await readFile(full));
  }
  return result;
}

/** `copy` holds the same folders and the same bytes in every file as `original`. */
async function expectSameTree(copy: string, original: string): Promise<void> {
  const restored = await snapshot(copy);
  const expected = await snapshot(original);
  expect([...restored.keys()].sort()).toEqual([...expected.keys()].sort());
  for (const [rel, content] of expected) {
    if (content === 'dir') expect(restored.get(rel), rel).toBe('dir');
    else expect(Buffer.compare(restored.get(rel) as Buffer, content), rel).toBe(0);
  }
}

beforeEach(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'kms-restore-'));
  exchsrvr = path.join(tmp, 'Exchsrvr');
  kmsdata = path.join(exchsrvr, 'Kmsdata');
  staging = stagingPathFor(kmsdata, 'run1');
  backup = path.join(tmp, 'backup', 'Kmsdata');
  await mkdir(kmsdata, { recursive: true });
  await mkdir(path.join(backup, 'empty'), { recursive: true });
  await mkdir(path.join(backup, 'sub', 'nested'), { recursive: true });
  await writeFile(path.join(backup, 'KMSMAIL.EDB'), randomBytes(3 * 1024 * 1024 + 17));
  await writeFile(path.join(backup, 'KMSMAIL.CHK'), 'checkpoint');
  await writeFile(path.join(backup, 'zero.dat'), '');
  await writeFile(path.join(backup, 'sub', 'edb00001.log'), randomBytes(5000));
  await writeFile(path.join(backup, 'sub', 'nested', 'mgrent.dat'), 'manager entries');
  await utimes(path.join(backup, 'KMSMAIL.CHK'), new Date('1999-03-04T05:06:07Z'), new Date('1999-03-04T05:06:07Z'));
});

afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

let ledger: LedgerEntry[] = [];
/** The clear's options as a run gives them: no pinned identity (tests pin on their own), a ledger in memory. */
const clearOptions = (expected: FolderIdentity | null = null): ClearOptions => {
  ledger = [];
  return { expected, record: (entries) => { ledger = [...ledger.filter((e) => !entries.some((n) => n.storedAs === e.storedAs)), ...entries]; } };
};

describe('clearKmsdata', () => {
  it('empties Kmsdata (files, nested folders, links) and keeps Kmsdata itself', async () => {
    await cp(backup, kmsdata, { recursive: true });
    const outside = path.join(tmp, 'outside.txt');
    await writeFile(outside, 'keep me');
    await symlink(outside, path.join(kmsdata, 'link.txt'), 'file');

    const before = await readdir(kmsdata);
    const report = await clearKmsdata(kmsdata, 'run1', clearOptions());
    expect(report).toEqual({ removed: 6, remaining: 0, quarantine: path.join(exchsrvr, 'Kmsdata.quarantine-run1') });
    expect(await readdir(kmsdata)).toEqual([]);
    expect(await readFile(outside, 'utf8')).toBe('keep me');
    // Nothing is destroyed: the reinstall's files wait in the quarantine until the run succeeds.
    expect((await readdir(report.quarantine)).sort()).toEqual(before.sort());
    // Every entry is in the ledger, recorded before it was moved, and deleted only as recorded.
    expect(ledger.map((e) => e.name).sort()).toEqual(before.sort());
    expect(ledger.find((e) => e.name === 'link.txt')).toMatchObject({ kind: 'symlink' });
    const removal = await removeQuarantine(kmsdata, 'run1', ledger);
    expect(removal.kept).toEqual([]);
    expect(removal.removed).toContain(report.quarantine);
    expect(await exists(report.quarantine)).toBe(false);
    expect(await removeQuarantine(kmsdata, 'run1', ledger)).toEqual({ removed: [], kept: [] });
  });

  it('records every entry as it is: a file by size and SHA-256, a folder by its tree, links never read through', async () => {
    await writeFile(path.join(kmsdata, 'kmsmail.edb'), 'database');
    await mkdir(path.join(kmsdata, 'certs', 'old'), { recursive: true });
    await writeFile(path.join(kmsdata, 'certs', 'ca.cer'), 'ca');
    await writeFile(path.join(kmsdata, 'certs', 'old', 'kms.cer'), 'kms');
    await symlink(path.join(tmp, 'nowhere'), path.join(kmsdata, 'certs', 'dangling'));
    await clearKmsdata(kmsdata, 'run1', clearOptions());
    const sha = (text: string): string => createHash('sha256').update(text).digest('hex');
    expect(ledger.find((e) => e.name === 'kmsmail.edb')).toEqual({ name: 'kmsmail.edb', storedAs: 'kmsmail.edb', kind: 'file', size: 8, sha256: sha('database') });
    // A folder: `F path size sha` of each file, `D`/`L` of folders and links, in path order.
    expect(ledger.find((e) => e.name === 'certs')).toEqual({
      name: 'certs', storedAs: 'certs', kind: 'dir', size: 5,
      sha256: sha(`F ca.cer 2 ${sha('ca')}\nL dangling\nD old\nF old/kms.cer 3 ${sha('kms')}\n`),
    });
  });

  it.skipIf(process.platform === 'win32')('records an entry listed as a file that became a link meanwhile as a link, without reading its target', async () => {
    const target = path.join(tmp, 'outside.key');
    await writeFile(target, 'not Kmsdata');
    const swapped = path.join(kmsdata, 'kmsmail.edb');
    await symlink(target, swapped);
    const entry = await describeEntry(swapped, 'kmsmail.edb', 'kmsmail.edb', newReader(), 'file');
    expect(entry).toEqual({ name: 'kmsmail.edb', storedAs: 'kmsmail.edb', kind: 'symlink', size: 0, sha256: null });
  });

  it('after an interruption moves what is left into the same quarantine', async () => {
    await writeFile(path.join(kmsdata, 'a.dat'), 'first');
    const quarantine = path.join(exchsrvr, 'Kmsdata.quarantine-run1');
    await mkdir(quarantine);
    await writeFile(path.join(quarantine, 'a.dat'), 'moved before the crash');
    await writeFile(path.join(kmsdata, 'b.dat'), 'b');
    expect(await clearKmsdata(kmsdata, 'run1', clearOptions())).toEqual({ removed: 2, remaining: 0, quarantine });
    expect((await readdir(quarantine)).sort()).toEqual(['a.dat', 'a.dat.1', 'b.dat']);
    expect(await readFile(path.join(quarantine, 'a.dat.1'), 'utf8')).toBe('first');
  });

  it('is idempotent: an empty Kmsdata gives {removed: 0, remaining: 0}', async () => {
    await writeFile(path.join(kmsdata, 'a.dat'), 'a');
    const quarantine = path.join(exchsrvr, 'Kmsdata.quarantine-run1');
    expect(await clearKmsdata(kmsdata, 'run1', clearOptions())).toEqual({ removed: 1, remaining: 0, quarantine });
    expect(await clearKmsdata(kmsdata, 'run1', clearOptions())).toEqual({ removed: 0, remaining: 0, quarantine });
    expect(await exists(kmsdata)).toBe(true);
  });

  it('refuses a folder that is not Kmsdata and deletes nothing', async () => {
    const other = path.join(exchsrvr, 'Mdbdata');
    await mkdir(other);
    await writeFile(path.join(other, 'priv.edb'), 'mail');
    const error = await rejection(clearKmsdata(other, 'run1', clearOptions()));
    expect(error.code).toBe('NOT_KMSDATA');
    expect(await readdir(other)).toEqual(['priv.edb']);
  });
});

describe('removeQuarantine', () => {
  /** A Kmsdata with a folder of several files, cleared into run1's quarantine. */
  async function clearedWithFolder(): Promise<string> {
    await writeFile(path.join(kmsdata, 'kmsmail.edb'), 'database');
    await mkdir(path.join(kmsdata, 'certs'));
    for (const name of ['ca.cer', 'kms.cer', 'old.cer']) await writeFile(path.join(kmsdata, 'certs', name), name);
    return (await clearKmsdata(kmsdata, 'run1', clearOptions())).quarantine;
  }

  it('finishes a deletion a crash cut off half-way through a folder: nothing is left, nothing is kept', async () => {
    const quarantine = await clearedWithFolder();
    // What a SIGKILL inside the deletion leaves: the entries proved and moved aside, one of them
    // (a folder) part-deleted, which no longer matches its ledger entry.
    const deletion = path.join(quarantine, deletionFolderName(ledger));
    await mkdir(deletion);
    await rename(path.join(quarantine, 'certs'), path.join(deletion, 'certs'));
    await rm(path.join(deletion, 'certs', 'ca.cer'));
    const removal = await removeQuarantine(kmsdata, 'run1', ledger);
    expect(removal.kept).toEqual([]);
    expect(removal.removed).toEqual([path.join(quarantine, 'kmsmail.edb'), deletion, quarantine]);
    expect(await exists(quarantine)).toBe(false);
  });

  it('keeps a part-deleted folder found in the quarantine itself: it is not as the ledger recorded it', async () => {
    const quarantine = await clearedWithFolder();
    await rm(path.join(quarantine, 'certs', 'ca.cer'));
    const removal = await removeQuarantine(kmsdata, 'run1', ledger);
    expect(removal.kept).toEqual([path.join(quarantine, 'certs')]);
    expect(await readdir(quarantine)).toEqual(['certs']);
  });

  it('takes a deletion folder name that no entry of the ledger has, and deletes an entry of that name as recorded', async () => {
    await writeFile(path.join(kmsdata, '.kms-recover-deleting'), 'a file of the reinstall with that name');
    const { quarantine } = await clearKmsdata(kmsdata, 'run1', clearOptions());
    expect(deletionFolderName(ledger)).toBe('.kms-recover-deleting.1');
    const removal = await removeQuarantine(kmsdata, 'run1', ledger);
    expect(removal.kept).toEqual([]);
    expect(await exists(quarantine)).toBe(false);
  });
});

describe('restoreKmsdata', () => {
  let manifest: Manifest;

  beforeEach(async () => {
    manifest = await buildManifest(backup);
  });

  afterEach(async () => {
    // Whatever happened, the backup itself is never changed by a restore.
    if (await exists(backup)) expect(await buildManifest(backup)).toEqual(manifest);
  });

  it('makes Kmsdata byte-identical to the backup, empty and nested folders included', async () => {
    const report = await restoreKmsdata(backup, kmsdata, manifest, 'run1');
    expect(report).toEqual({
      identity: await folderIdentity(kmsdata),
      fileCount: 5,
      totalBytes: manifest.totalBytes,
      digest: manifest.digest,
      mismatches: [],
      alreadyRestored: false,
      // The files' stamp as the copy left them: what a look at them now finds.
      stamp: (await compareToManifest(kmsdata, manifest, { contents: false })).stamp,
    });
    expect(report.stamp).toMatch(/^[0-9a-f]{64}$/);
    await expectSameTree(kmsdata, backup);
    const restored = await snapshot(kmsdata);
    expect(restored.get('empty')).toBe('dir');
    expect(restored.get('sub/nested')).toBe('dir');
    expect((await stat(path.join(kmsdata, 'KMSMAIL.CHK'))).mtime.toISOString()).toBe('1999-03-04T05:06:07.000Z');
    expect(await exists(staging)).toBe(false);
    expect(await buildManifest(kmsdata)).toEqual(manifest);
  });

  it('calls onFileCopied once per file, in manifest order', async () => {
    const seen: [string, number][] = [];
    await restoreKmsdata(backup, kmsdata, manifest, 'run1', { onFileCopied: (rel, index) => { seen.push([rel, index]); } });
    expect(seen).toEqual(manifest.files.map((f, i) => [f.path, i]));
  });

  it('reports alreadyRestored when Kmsdata already matches, and copies nothing', async () => {
    await restoreKmsdata(backup, kmsdata, manifest, 'run1');
    let copies = 0;
    const report = await restoreKmsdata(backup, kmsdata, manifest, 'run1', { onFileCopied: () => { copies += 1; } });
    expect(report).toMatchObject({ fileCount: 5, totalBytes: manifest.totalBytes, digest: manifest.digest, mismatches: [], alreadyRestored: true });
    expect(copies).toBe(0);
  });

  it('refuses a Kmsdata that is not empty and does not match, leaving it untouched', async () => {
    await writeFile(path.join(kmsdata, 'KMSMAIL.EDB'), 'the new, wrong database');
    const error = await rejection(restoreKmsdata(backup, kmsdata, manifest, 'run1'));
    expect(error.code).toBe('KMSDATA_NOT_EMPTY');
    expect(error.message).toMatch(/^Kmsdata is not empty: .*run the clear step first$/);
    expect(error.message).toContain(kmsdata);
    expect(await readdir(kmsdata)).toEqual(['KMSMAIL.EDB']);
    expect(await readFile(path.join(kmsdata, 'KMSMAIL.EDB'), 'utf8')).toBe('the new, wrong database');
    expect(await exists(staging)).toBe(false);
  });

  it('fails with BACKUP_CHANGED when a backup file changed after the manifest, leaving Kmsdata empty and no staging', async () => {
    const changed = path.join(backup, 'sub', 'nested', 'mgrent.dat');
    await writeFile(changed, 'manager entrieZ');
    const error = await rejection(restoreKmsdata(backup, kmsdata, manifest, 'run1'));
    expect(error.code).toBe('BACKUP_CHANGED');
    expect(error.message).toContain(`backup file ${changed} changed since it was checked`);
    expect(error.detail).toEqual({ file: changed });
    expect(await readdir(kmsdata)).toEqual([]);
    expect(await exists(staging)).toBe(false);
    await writeFile(changed, 'manager entries'); // put it back for the afterEach check
  });

  it('fails with BACKUP_CHANGED when a backup file disappeared', async () => {
    const gone = path.join(backup, 'KMSMAIL.CHK');
    const keep = await readFile(gone);
    await rm(gone);
    const error = await rejection(restoreKmsdata(backup, kmsdata, manifest, 'run1'));
    expect(error.code).toBe('BACKUP_CHANGED');
    expect(error.message).toContain(gone);
    expect(await readdir(kmsdata)).toEqual([]);
    expect(await exists(staging)).toBe(false);
    await writeFile(gone, keep);
    await utimes(gone, new Date('1999-03-04T05:06:07Z'), new Date('1999-03-04T05:06:07Z'));
  });

  it('cleans up staging when interrupted by an error mid-copy, and a second run succeeds', async () => {
    const error = await restoreKmsdata(backup, kmsdata, manifest, 'run1', {
      onFileCopied: (_rel, index) => { if (index === 2) throw new Error('injected fault'); },
    }).catch((e: unknown) => e);
    expect((error as Error).message).toBe('injected fault');
    expect(await readdir(kmsdata)).toEqual([]);
    expect(await exists(staging)).toBe(false);
    const report = await restoreKmsdata(backup, kmsdata, manifest, 'run1');
    expect(report.alreadyRestored).toBe(false);
    expect(await buildManifest(kmsdata)).toEqual(manifest);
  });

  it('starts over after a crash mid-copy left a partial staging folder', async () => {
    await mkdir(staging);
    await writeFile(path.join(staging, 'KMSMAIL.CHK'), 'checkpoint');
    await writeFile(path.join(staging, 'KMSMAIL.EDB'), 'half a datab');
    const report = await restoreKmsdata(backup, kmsdata, manifest, 'run1');
    expect(report).toMatchObject({ fileCount: 5, digest: manifest.digest, alreadyRestored: false });
    expect(await buildManifest(kmsdata)).toEqual(manifest);
    expect(await exists(staging)).toBe(false);
  });

  it('finishes after a crash between removing Kmsdata and renaming a complete staging folder', async () => {
    await cp(backup, staging, { recursive: true });
    await rm(kmsdata, { recursive: true });
    let copies = 0;
    const report = await restoreKmsdata(backup, kmsdata, manifest, 'run1', { onFileCopied: () => { copies += 1; } });
    expect(report).toMatchObject({ fileCount: 5, totalBytes: manifest.totalBytes, digest: manifest.digest, mismatches: [], alreadyRestored: false });
    expect(copies).toBe(0);
    expect(await buildManifest(kmsdata)).toEqual(manifest);
    expect(await exists(staging)).toBe(false);
  });

  it('recreates a missing Kmsdata when there is no staging folder, then restores', async () => {
    await rm(kmsdata, { recursive: true });
    const report = await restoreKmsdata(backup, kmsdata, manifest, 'run1');
    expect(report.alreadyRestored).toBe(false);
    expect(await buildManifest(kmsdata)).toEqual(manifest);
  });

  it('does not trust an incomplete staging folder when Kmsdata is missing', async () => {
    await cp(backup, staging, { recursive: true });
    await writeFile(path.join(staging, 'sub', 'edb00001.log'), 'corrupted');
    await rm(kmsdata, { recursive: true });
    await restoreKmsdata(backup, kmsdata, manifest, 'run1');
    expect(await buildManifest(kmsdata)).toEqual(manifest);
    expect(await exists(staging)).toBe(false);
  });

  it('refuses a manifest whose digest does not match its entries', async () => {
    const tampered = { ...manifest, files: manifest.files.map((f) => (f.path === 'KMSMAIL.CHK' ? { ...f, path: '../escape' } : f)) };
    const error = await rejection(restoreKmsdata(backup, kmsdata, tampered, 'run1'));
    expect(error.code).toBe('BACKUP_INVALID');
    expect(await readdir(kmsdata)).toEqual([]);
    expect(await exists(path.join(exchsrvr, 'escape'))).toBe(false);
  });

  describe('many files around the read buffer (1 MiB)', () => {
    beforeEach(async () => {
      for (let i = 0; i < 40; i += 1) {
        await writeFile(path.join(backup, 'sub', `user-${String(i).padStart(2, '0')}.key`), randomBytes([0, 1, 4096, 1024 * 1024, 1024 * 1024 + 1, 200_000][i % 6]!));
      }
      manifest = await buildManifest(backup);
    });

    it('copies every file byte for byte with its times, hook in manifest order', async () => {
      const seen: number[] = [];
      const report = await restoreKmsdata(backup, kmsdata, manifest, 'run1', { onFileCopied: (_rel, index) => { seen.push(index); } });
      expect(seen).toEqual(manifest.files.map((_f, i) => i));
      expect(report).toMatchObject({ fileCount: manifest.fileCount, totalBytes: manifest.totalBytes, digest: manifest.digest, alreadyRestored: false });
      await expectSameTree(kmsdata, backup);
      expect(await buildManifest(kmsdata)).toEqual(manifest);
      expect((await stat(path.join(kmsdata, 'KMSMAIL.CHK'))).mtime.toISOString()).toBe('1999-03-04T05:06:07.000Z');
    });

    it('still fails with BACKUP_CHANGED naming the file when a backup file changed, leaving no staging', async () => {
      const changed = path.join(backup, 'sub', 'user-27.key');
      const keep = await readFile(changed);
      const altered = Buffer.from(keep);
      altered[altered.length - 1] = altered[altered.length - 1]! ^ 0xff; // same size, one byte differs
      await writeFile(changed, altered);
      const openFiles = (): number => (process.platform === 'linux' ? readdirSync('/proc/self/fd').length : 0);
      const before = openFiles();
      const error = await rejection(restoreKmsdata(backup, kmsdata, manifest, 'run1'));
      // The files created ahead of the copy are closed too: nothing is left open.
      expect(openFiles()).toBe(before);
      expect(error.code).toBe('BACKUP_CHANGED');
      expect(error.message).toContain(`backup file ${changed} changed since it was checked: its content differs`);
      expect(error.detail).toEqual({ file: changed });
      expect(await readdir(kmsdata)).toEqual([]);
      expect(await exists(staging)).toBe(false);
      await writeFile(changed, keep); // put it back for the afterEach check
    });

    it('stops cleanly when the hook fails mid-copy, and a second run succeeds', async () => {
      const error = await restoreKmsdata(backup, kmsdata, manifest, 'run1', {
        onFileCopied: (_rel, index) => { if (index === 5) throw new Error('injected fault'); },
      }).catch((e: unknown) => e);
      expect((error as Error).message).toBe('injected fault');
      expect(await readdir(kmsdata)).toEqual([]);
      expect(await exists(staging)).toBe(false);
      await restoreKmsdata(backup, kmsdata, manifest, 'run1');
      expect(await buildManifest(kmsdata)).toEqual(manifest);
    });
  });

  it('the copy of one large file gives the event loop its turns (heartbeat, time limit, signals)', async () => {
    const src = path.join(backup, 'KMSMAIL.EDB'); // 3 MiB + 17 bytes: four reads
    const dst = path.join(tmp, 'copy.edb');
    // Every turn due: the copy yields before each read, so work queued meanwhile runs during the copy.
    const always = new (class extends Turns { override get due(): boolean { return true; } })();
    let ran = 0;
    let copying = true;
    const tick = (): void => { if (copying) { ran += 1; setImmediate(tick); } };
    setImmediate(tick);
    const outcome = await copyAndHash(src, Promise.resolve(openSync(dst, 'wx')), { buf: Buffer.allocUnsafe(COPY_BUFFER_BYTES), spare: Buffer.allocUnsafe(COPY_BUFFER_BYTES), turns: always });
    copying = false;
    // A copy that kept the thread would let none run. Four writes: at least three turns, as a
    // write that completes within the poll phase it was issued in shares its turn with the next.
    expect(ran).toBeGreaterThanOrEqual(3);
    expect(outcome).toMatchObject({ ok: true, size: 3 * 1024 * 1024 + 17, sha256: manifest.files.find((f) => f.path === 'KMSMAIL.EDB')!.sha256 });
    expect(Buffer.compare(await readFile(dst), await readFile(src))).toBe(0);
  });

  it('refuses a backup that contains Kmsdata', async () => {
    await writeFile(path.join(exchsrvr, 'notes.txt'), 'not a backup');
    const wide = await buildManifest(exchsrvr);
    const error = await rejection(restoreKmsdata(exchsrvr, kmsdata, wide, 'run1'));
    expect(error.code).toBe('PATH_UNSAFE');
    expect(error.message).toContain('the backup must be a separate copy');
    expect(await readdir(kmsdata)).toEqual([]);
  });
});
