import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, open, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KmsRecoverError } from '../../errors/index.js';
import { buildManifest, compareToManifest, manifestDigest } from '../../host/fs/manifest.js';

let tmp: string;
let tree: string;

beforeEach(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'kms-manifest-'));
  tree = path.join(tmp, 'backup');
  await mkdir(path.join(tree, 'sub', 'nested'), { recursive: true });
  await mkdir(path.join(tree, 'empty'));
  await writeFile(path.join(tree, 'KMSMAIL.EDB'), Buffer.alloc(200_000, 7));
  await writeFile(path.join(tree, 'sub', 'kmsmail.log'), 'log line\n');
  await writeFile(path.join(tree, 'sub', 'nested', 'mgrent.dat'), 'abc');
  await writeFile(path.join(tree, 'zero.dat'), '');
});

afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const sha = (data: string | Buffer): string => createHash('sha256').update(data).digest('hex');

describe('buildManifest', () => {
  it('lists files and folders sorted, with sizes and real SHA-256 hashes', async () => {
    const manifest = await buildManifest(tree);
    expect(manifest.dirs).toEqual(['empty', 'sub', 'sub/nested']);
    expect(manifest.files).toEqual([
      { path: 'KMSMAIL.EDB', size: 200_000, sha256: sha(Buffer.alloc(200_000, 7)) },
      { path: 'sub/kmsmail.log', size: 9, sha256: sha('log line\n') },
      { path: 'sub/nested/mgrent.dat', size: 3, sha256: sha('abc') },
      { path: 'zero.dat', size: 0, sha256: sha('') },
    ]);
    expect(manifest.fileCount).toBe(4);
    expect(manifest.totalBytes).toBe(200_012);
    expect(manifest.digest).toBe(manifestDigest(manifest.files, manifest.dirs));
  });

  it('computes the digest over the documented F/D lines', async () => {
    const manifest = await buildManifest(tree);
    const lines = [
      ...manifest.files.map((f) => `F ${f.path} ${f.size} ${f.sha256}\n`),
      ...manifest.dirs.map((d) => `D ${d}\n`),
    ].join('');
    expect(manifest.digest).toBe(sha(lines));
  });

  it('gives the same digest on every run, whatever order the entries are given in', async () => {
    const first = await buildManifest(tree);
    const second = await buildManifest(tree);
    expect(second).toEqual(first);
    expect(manifestDigest([...first.files].reverse(), [...first.dirs].reverse())).toBe(first.digest);
  });

  it('changes the digest when one byte changes', async () => {
    const before = await buildManifest(tree);
    await writeFile(path.join(tree, 'sub', 'nested', 'mgrent.dat'), 'abd');
    const after = await buildManifest(tree);
    expect(after.totalBytes).toBe(before.totalBytes);
    expect(after.digest).not.toBe(before.digest);
  });

  it('changes the digest when an empty folder is added', async () => {
    const before = await buildManifest(tree);
    await mkdir(path.join(tree, 'another'));
    expect((await buildManifest(tree)).digest).not.toBe(before.digest);
  });

  it('refuses a symbolic link inside the tree', async () => {
    await symlink(path.join(tree, 'zero.dat'), path.join(tree, 'sub', 'link.dat'), 'file');
    const error = await buildManifest(tree).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KmsRecoverError);
    expect((error as KmsRecoverError).code).toBe('PATH_UNSAFE');
    expect((error as KmsRecoverError).message).toContain(path.join(tree, 'sub', 'link.dat'));
  });

  it('reports a missing folder', async () => {
    const error = await buildManifest(path.join(tmp, 'nowhere')).catch((e: unknown) => e);
    expect((error as KmsRecoverError).code).toBe('PATH_MISSING');
  });
});

describe('compareToManifest', () => {
  it('matches the tree it was built from', async () => {
    const manifest = await buildManifest(tree);
    await expect(compareToManifest(tree, manifest)).resolves.toMatchObject({ matches: true, differences: [], by: 'contents' });
  });

  it('reports missing, extra, resized and changed entries, sorted by path', async () => {
    const manifest = await buildManifest(tree);
    await rm(path.join(tree, 'sub', 'kmsmail.log'));
    await rm(path.join(tree, 'empty'), { recursive: true });
    await writeFile(path.join(tree, 'extra.tmp'), 'new');
    await mkdir(path.join(tree, 'newdir'));
    await writeFile(path.join(tree, 'sub', 'nested', 'mgrent.dat'), 'abd');
    await writeFile(path.join(tree, 'zero.dat'), 'grown');
    const report = await compareToManifest(tree, manifest);
    expect(report.matches).toBe(false);
    expect(report.differences).toEqual([
      'empty (missing folder)',
      'extra.tmp (extra)',
      'newdir (extra folder)',
      'sub/kmsmail.log (missing)',
      'sub/nested/mgrent.dat (content differs)',
      'zero.dat (size 5, expected 0)',
    ]);
  });

  it('compares names and sizes only when asked not to read contents', async () => {
    const manifest = await buildManifest(tree);
    await writeFile(path.join(tree, 'sub', 'nested', 'mgrent.dat'), 'abd');
    await expect(compareToManifest(tree, manifest, { contents: false })).resolves.toMatchObject({ matches: true, differences: [] });
    await expect(compareToManifest(tree, manifest)).resolves.toMatchObject({ matches: false, differences: ['sub/nested/mgrent.dat (content differs)'] });
  });

  it('without a stamp (the backup\'s check: names and sizes), proves nothing unchanged: a later check hashes', async () => {
    const manifest = await buildManifest(tree);
    const named = await compareToManifest(tree, manifest, { contents: false, stamp: false });
    expect(named).toMatchObject({ matches: true, stamp: null });
    await writeFile(path.join(tree, 'extra.dat'), 'x');
    await expect(compareToManifest(tree, manifest, { contents: false, stamp: false })).resolves.toMatchObject({ matches: false, differences: ['extra.dat (extra)'] });
    await rm(path.join(tree, 'extra.dat'));
    expect(await compareToManifest(tree, manifest, { unchangedSince: named.stamp })).toMatchObject({ matches: true, by: 'contents' });
  });

  it('takes the files\' stamp (identity, size and times), the same on every look at an unchanged tree', async () => {
    const manifest = await buildManifest(tree);
    const first = await compareToManifest(tree, manifest, { contents: false });
    expect(first.stamp).toMatch(/^[0-9a-f]{64}$/);
    expect((await compareToManifest(tree, manifest)).stamp).toBe(first.stamp);
  });

  it('with the stamp the files still have, matches by their identity, without hashing them', async () => {
    const manifest = await buildManifest(tree);
    const { stamp } = await compareToManifest(tree, manifest, { contents: false });
    const check = await compareToManifest(tree, manifest, { unchangedSince: stamp });
    expect(check).toMatchObject({ matches: true, by: 'identity', stamp });
  });

  it('hashes every file again when one was rewritten in place, its size and times put back', async () => {
    const file = path.join(tree, 'KMSMAIL.EDB');
    // Whole seconds, so that the times put back are exactly the same.
    await utimes(file, 946_684_800, 946_684_800);
    const manifest = await buildManifest(tree);
    const { stamp } = await compareToManifest(tree, manifest, { contents: false });
    const before = await stat(file);
    await new Promise((resolve) => setTimeout(resolve, 20)); // past a coarse clock's tick
    const handle = await open(file, 'r+');
    await handle.write(Buffer.from([8]), 0, 1, 100);
    await handle.close();
    await utimes(file, before.atime, before.mtime);
    expect((await stat(file)).size).toBe(before.size);
    const check = await compareToManifest(tree, manifest, { unchangedSince: stamp });
    expect(check).toMatchObject({ matches: false, by: 'contents', differences: ['KMSMAIL.EDB (content differs)'] });
    expect(check.stamp).not.toBe(stamp);
  });

  it('hashes every file when the stamp given is not theirs (another restore\'s, or none)', async () => {
    const manifest = await buildManifest(tree);
    for (const unchangedSince of ['0'.repeat(64), null]) {
      expect(await compareToManifest(tree, manifest, { unchangedSince })).toMatchObject({ matches: true, by: 'contents' });
    }
  });

  it('reports a file where a folder was expected', async () => {
    const manifest = await buildManifest(tree);
    await rm(path.join(tree, 'empty'), { recursive: true });
    await writeFile(path.join(tree, 'empty'), '');
    const report = await compareToManifest(tree, manifest);
    expect(report.differences).toEqual(['empty (a file, expected a folder)']);
  });
});
