import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createWindowsHost } from '../../host/windows/index.js';
import type { ServiceControl } from '../../host/types.js';
import { rejection } from '../helpers/rejection.js';

/*
 * The Windows host's clear and restore go through the real host/fs operations. A sharing
 * violation cannot be made on Linux, so `rename` fails with EBUSY for a chosen path, as Windows
 * fails it for a file another process holds open: the error must be FILE_IN_USE naming that file.
 */
const locked = vi.hoisted(() => ({ paths: new Set<string>() }));
vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs/promises')>();
  const rename: typeof actual.rename = async (from, to) => {
    if (locked.paths.has(path.resolve(String(from)))) throw Object.assign(new Error(`EBUSY: resource busy or locked, rename '${String(from)}'`), { code: 'EBUSY' });
    return actual.rename(from, to);
  };
  return { ...actual, default: { ...actual, rename }, rename };
});
// The clear moves entries with renameSync (one metadata change each, thousands of them).
vi.mock('node:fs', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs')>();
  const renameSync: typeof actual.renameSync = (from, to) => {
    if (locked.paths.has(path.resolve(String(from)))) throw Object.assign(new Error(`EBUSY: resource busy or locked, rename '${String(from)}'`), { code: 'EBUSY' });
    return actual.renameSync(from, to);
  };
  return { ...actual, default: { ...actual, renameSync }, renameSync };
});

let tmp: string;

/** The service part is not under test here: a KMS that is stopped. */
const stoppedKms: ServiceControl = {
  queryService: async (name) => ({ name, state: 'stopped' }),
  serviceKmsdata: async () => path.join(tmp, 'Exchsrvr', 'Kmsdata'),
  stopService: async (name) => ({ name, state: 'stopped' }),
  startService: async (name) => ({ name, state: 'running' }),
};

beforeEach(() => {
  tmp = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'kms-inuse-')));
});

afterEach(() => {
  locked.paths.clear();
  fs.rmSync(tmp, { recursive: true, force: true });
});


describe('a locked file during the clear and the restore (real file operations)', () => {
  it('clear: FILE_IN_USE naming the locked file; the entries before it are moved, the rest left', async () => {
    const kmsdata = path.join(tmp, 'EXCHSRVR', 'KMSDATA');
    fs.mkdirSync(kmsdata, { recursive: true });
    for (const name of ['a.ini', 'kmsmail.edb']) fs.writeFileSync(path.join(kmsdata, name), name);
    const file = path.join(kmsdata, 'kmsmail.edb');
    locked.paths.add(file);

    const host = createWindowsHost({ services: stoppedKms });
    const error = await rejection(host.clearKmsdata(kmsdata, 'run1', { expected: null, record: () => undefined }));
    expect(error.code).toBe('FILE_IN_USE');
    expect(error.message).toBe(`cannot delete ${file}: the file is in use; MSExchangeKMS is stopped, so another program holds it (a backup agent, a virus scanner, an Explorer or command window open in that folder): close it, then run kms-recover resume`);
    expect(error.detail).toMatchObject({ file, errno: 'EBUSY', operation: 'clear' });
    expect(fs.readdirSync(kmsdata)).toEqual(['kmsmail.edb']);
  });

  it('restore: FILE_IN_USE naming the folder that could not be put in place', async () => {
    const kmsdata = path.join(tmp, 'Exchsrvr', 'Kmsdata');
    const backup = path.join(tmp, 'backup', 'Kmsdata');
    fs.mkdirSync(kmsdata, { recursive: true });
    fs.mkdirSync(backup, { recursive: true });
    fs.writeFileSync(path.join(backup, 'kmsmail.edb'), 'original');
    const host = createWindowsHost({ services: stoppedKms });
    const manifest = await host.manifest(backup);
    const staging = path.join(tmp, 'Exchsrvr', 'Kmsdata.restore-staging-run1');
    locked.paths.add(staging);

    const error = await rejection(host.restoreKmsdata(backup, kmsdata, manifest, 'run1'));
    expect(error.code).toBe('FILE_IN_USE');
    expect(error.message).toMatch(new RegExp(`^cannot rename ${staging.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} to ${kmsdata.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: the folder is in use; run the restore again to finish; MSExchangeKMS is stopped, so another program holds it`));
    expect(error.detail).toMatchObject({ file: staging, operation: 'restore' });
  });
});
