import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { assertOneVolume, assertTreesApart, folderIdentities, identityChain, type TreesApartRequest } from '../../host/fs/tree-identity.js';
import { clearKmsdata } from '../../host/fs/clear-kmsdata.js';
import { caught, rejection } from '../helpers/rejection.js';

/*
 * The overlap and one-volume logic on real folders: names that differ from what the folders are
 * (symlinks always; bind mounts and tmpfs when running as root, which CI and this machine do).
 */

const isRoot = process.getuid?.() === 0;
const rootOnly = isRoot ? it : it.skip;
let tmp: string;
const mounts: string[] = [];

beforeEach(() => {
  tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'kms-trees-')));
  fs.mkdirSync(path.join(tmp, 'Exchsrvr', 'Kmsdata', 'certs'), { recursive: true });
  fs.writeFileSync(path.join(tmp, 'Exchsrvr', 'Kmsdata', 'kmsdata.edb'), 'reinstall');
  fs.mkdirSync(path.join(tmp, 'backup', 'Kmsdata', 'certs'), { recursive: true });
  fs.writeFileSync(path.join(tmp, 'backup', 'Kmsdata', 'kmsdata.edb'), 'original');
});

afterEach(() => {
  for (const at of mounts.splice(0).reverse()) execFileSync('umount', [at]);
  fs.rmSync(tmp, { recursive: true, force: true });
});

function mount(args: string[], at: string): void {
  execFileSync('mount', [...args, at]);
  mounts.push(at);
}

const kmsdata = () => path.join(tmp, 'Exchsrvr', 'Kmsdata');
const backup = () => path.join(tmp, 'backup', 'Kmsdata');

function request(change: Partial<TreesApartRequest> = {}): TreesApartRequest {
  return {
    kmsdata: kmsdata(), backup: backup(), runFolders: [],
    places: [{ what: 'the database', path: path.join(tmp, 'runs.db') }, { what: 'the log', path: path.join(tmp, 'runs.log') }],
    ...change,
  };
}

describe('folder identities', () => {
  it('lists every folder of a tree, links not followed', () => {
    fs.symlinkSync(backup(), path.join(kmsdata(), 'link-to-backup'));
    const found = [...folderIdentities(kmsdata()).values()].sort();
    expect(found).toEqual([kmsdata(), path.join(kmsdata(), 'certs')]);
  });

  it('the chain of a place that does not exist yet starts at its nearest folder and reaches the root', () => {
    const chain = identityChain(path.join(kmsdata(), 'certs', 'new', 'runs.db'));
    expect(chain[0]!.path).toBe(path.join(kmsdata(), 'certs'));
    expect(chain.at(-1)!.path).toBe(path.parse(tmp).root);
  });
});

describe('assertTreesApart', () => {
  it('separate trees and files pass', () => {
    expect(() => assertTreesApart(request())).not.toThrow();
  });

  it('a database inside Kmsdata, its WAL inside the backup, the startup disk in an earlier run\'s quarantine are each refused', () => {
    const inKms = caught(() => assertTreesApart(request({ places: [{ what: 'the database', path: path.join(kmsdata(), 'certs', 'x.db') }] })));
    expect(inKms.code).toBe('PATHS_OVERLAP');
    expect(inKms.message).toBe(`the database ${path.join(kmsdata(), 'certs', 'x.db')} lies inside Kmsdata ${kmsdata()}, which the recovery empties: keep it elsewhere (--db, or run kms-recover from another folder); nothing was changed`);
    const inBackup = caught(() => assertTreesApart(request({ places: [{ what: 'the WAL', path: path.join(backup(), 'x.db-wal') }] })));
    expect(inBackup.message).toContain(`lies inside the backup ${backup()}, which must never change`);
    const quarantine = path.join(tmp, 'Exchsrvr', 'Kmsdata.quarantine-abcd1234');
    fs.mkdirSync(quarantine);
    const inRunFolder = caught(() => assertTreesApart(request({ runFolders: [quarantine], places: [{ what: 'the startup disk', path: path.join(quarantine, 'Kmspwd.ini') }] })));
    expect(inRunFolder.message).toContain(`lies inside the earlier run's folder ${quarantine}`);
  });

  it('a database reached through a symbolic link into Kmsdata is refused, naming where it really goes', () => {
    const link = path.join(tmp, 'elsewhere');
    fs.symlinkSync(path.join(kmsdata(), 'certs'), link);
    const error = caught(() => assertTreesApart(request({ places: [{ what: 'the database', path: path.join(link, 'runs.db') }] })));
    expect(error.message).toContain(`the database ${path.join(link, 'runs.db')} lies inside Kmsdata ${kmsdata()}, which the recovery empties`);
  });

  it('Kmsdata inside the backup, and the backup inside Kmsdata, are refused', () => {
    const nested = path.join(backup(), 'Exchsrvr', 'Kmsdata');
    fs.mkdirSync(nested, { recursive: true });
    expect(caught(() => assertTreesApart(request({ kmsdata: nested }))).message).toContain(`Kmsdata ${nested} lies inside the backup ${backup()}`);
    const inner = path.join(kmsdata(), 'certs');
    expect(caught(() => assertTreesApart(request({ backup: inner }))).message).toContain(`the backup ${inner} lies inside Kmsdata ${kmsdata()}`);
  });

  rootOnly('a backup that is a bind mount of a folder inside Kmsdata is refused, naming both names', () => {
    const mounted = path.join(tmp, 'mnt');
    fs.mkdirSync(mounted);
    mount(['--bind', path.join(kmsdata(), 'certs')], mounted);
    const error = caught(() => assertTreesApart(request({ backup: mounted })));
    expect(error.code).toBe('PATHS_OVERLAP');
    expect(error.message).toContain(`(${mounted} is ${path.join(kmsdata(), 'certs')}, the same folder by device and inode)`);
  });

  rootOnly('a database folder bind-mounted from the backup is refused', () => {
    const mounted = path.join(tmp, 'dbdir');
    fs.mkdirSync(mounted);
    mount(['--bind', path.join(backup(), 'certs')], mounted);
    const error = caught(() => assertTreesApart(request({ places: [{ what: 'the database', path: path.join(mounted, 'runs.db') }] })));
    expect(error.message).toContain(`lies inside the backup ${backup()} (${mounted} is ${path.join(backup(), 'certs')}`);
  });

  rootOnly('a Kmsdata folder bind-mounted inside the backup is refused: they share a folder', () => {
    mount(['--bind', path.join(kmsdata(), 'certs')], path.join(backup(), 'certs'));
    const error = caught(() => assertTreesApart(request()));
    expect(error.message).toContain('share a folder');
  });
});

describe('assertOneVolume', () => {
  it('a plain Kmsdata passes', () => {
    expect(() => assertOneVolume(kmsdata())).not.toThrow();
  });

  rootOnly('a Kmsdata that is a mount point, or holds one, is KMSDATA_MOUNT_POINT', () => {
    mount(['-t', 'tmpfs', '-o', 'size=1m', 'kms-unit'], path.join(kmsdata(), 'certs'));
    const inner = caught(() => assertOneVolume(kmsdata()));
    expect(inner.code).toBe('KMSDATA_MOUNT_POINT');
    expect(inner.message).toContain(`${path.join(kmsdata(), 'certs')} inside Kmsdata is a mount point`);
    mount(['-t', 'tmpfs', '-o', 'size=1m', 'kms-unit'], kmsdata());
    const self = caught(() => assertOneVolume(kmsdata()));
    expect(self.message).toContain(`Kmsdata ${kmsdata()} is a mount point`);
  });
});

describe('a move across file systems', () => {
  rootOnly('is CROSS_DEVICE, in words (a quarantine folder that is a mount point): never a bare EXDEV', async () => {
    const quarantine = path.join(tmp, 'Exchsrvr', 'Kmsdata.quarantine-xdev1234');
    fs.mkdirSync(quarantine);
    mount(['-t', 'tmpfs', '-o', 'size=1m', 'kms-unit'], quarantine);
    const error = await rejection(clearKmsdata(kmsdata(), 'xdev1234', { expected: null, record: () => undefined }));
    expect(error.code).toBe('CROSS_DEVICE');
    expect(error.message).toMatch(/^cannot move .* to .*Kmsdata\.quarantine-xdev1234: the two folders are on different file systems/);
    expect(error.message).not.toContain('EXDEV');
    expect(error.detail.errno).toBe('EXDEV');
  });
});
