import { describe, expect, it } from 'vitest';
import { databasePlace } from '../../cli/database-location.js';
import { defaultDatabaseFolder, type SystemFacts } from '../../host/database-folder.js';

/* Where the database is kept when nothing names one, on each system, whatever folder a prompt starts in. */

const linuxUser: SystemFacts = { platform: 'linux', isRoot: false, env: {}, home: '/home/ann', cwd: '/home/ann/work' };
const linuxRoot: SystemFacts = { platform: 'linux', isRoot: true, env: {}, home: '/root', cwd: '/' };
const windows: SystemFacts = { platform: 'win32', isRoot: false, env: { ProgramData: 'D:\\ProgramData' }, home: 'C:\\Users\\admin', cwd: 'C:\\Windows\\System32' };
const nothingHere = () => false;

describe('the default database place', () => {
  it('Windows: %ProgramData%\\kms-recover, the same from System32 as from anywhere', () => {
    expect(databasePlace(undefined, windows, nothingHere)).toMatchObject({ path: 'D:\\ProgramData\\kms-recover\\kms-recover.db', origin: 'default' });
    expect(defaultDatabaseFolder({ ...windows, env: {} })).toBe('C:\\ProgramData\\kms-recover');
  });

  it('KMS_RECOVER_HOME (absolute) names the folder on every system; a relative one is ignored', () => {
    expect(defaultDatabaseFolder({ ...linuxRoot, env: { KMS_RECOVER_HOME: '/srv/kms' } })).toBe('/srv/kms');
    expect(defaultDatabaseFolder({ ...linuxRoot, env: { KMS_RECOVER_HOME: 'kms' } })).toBe('/var/lib/kms-recover');
  });

  it('root on Linux: /var/lib/kms-recover, whatever the home or the XDG variables', () => {
    expect(databasePlace(undefined, { ...linuxRoot, env: { XDG_STATE_HOME: '/root/.state' } }, nothingHere).path).toBe('/var/lib/kms-recover/kms-recover.db');
  });

  it('another user: $XDG_STATE_HOME/kms-recover, else ~/.local/state/kms-recover; a relative XDG_STATE_HOME is ignored, as the XDG specification says', () => {
    expect(defaultDatabaseFolder(linuxUser)).toBe('/home/ann/.local/state/kms-recover');
    expect(defaultDatabaseFolder({ ...linuxUser, env: { XDG_STATE_HOME: '/srv/state' } })).toBe('/srv/state/kms-recover');
    expect(defaultDatabaseFolder({ ...linuxUser, env: { XDG_STATE_HOME: 'state' } })).toBe('/home/ann/.local/state/kms-recover');
    expect(defaultDatabaseFolder({ ...linuxUser, platform: 'darwin', isRoot: true, home: '/var/root' })).toBe('/var/root/.local/state/kms-recover');
  });

  it('an old ./kms-recover.db in the current folder is found and used; --db and KMS_RECOVER_DB win over it', () => {
    const here = (file: string) => file === '/home/ann/work/kms-recover.db';
    expect(databasePlace(undefined, linuxUser, here)).toEqual({
      path: '/home/ann/work/kms-recover.db', origin: 'found-here',
      defaultPath: '/home/ann/.local/state/kms-recover/kms-recover.db', herePath: '/home/ann/work/kms-recover.db',
    });
    expect(databasePlace(undefined, { ...linuxUser, env: { KMS_RECOVER_DB: 'runs.db' } }, here)).toMatchObject({ path: '/home/ann/work/runs.db', origin: 'environment' });
    expect(databasePlace('../x.db', { ...linuxUser, env: { KMS_RECOVER_DB: 'runs.db' } }, here)).toMatchObject({ path: '/home/ann/x.db', origin: 'option' });
    // An empty KMS_RECOVER_DB names nothing.
    expect(databasePlace(undefined, { ...linuxUser, env: { KMS_RECOVER_DB: '' } }, nothingHere).origin).toBe('default');
  });

  it('run from inside the default folder, its database is the default one, not "found here"', () => {
    const cwd = '/home/ann/.local/state/kms-recover';
    expect(databasePlace(undefined, { ...linuxUser, cwd }, () => true).origin).toBe('default');
  });
});
