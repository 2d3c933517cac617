import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { KmsRecoverError } from '../errors/index.js';

/** What the default database place depends on: the system, the user, the environment, the folder the command runs in. */
export interface SystemFacts {
  platform: NodeJS.Platform;
  /** Root (uid 0) on a POSIX system. */
  isRoot: boolean;
  env: NodeJS.ProcessEnv;
  home: string;
  cwd: string;
}

export function thisSystem(): SystemFacts {
  return { platform: process.platform, isRoot: process.getuid?.() === 0, env: process.env, home: os.homedir(), cwd: process.cwd() };
}

/** Path joining in the system's own syntax (Windows paths stay Windows paths when a test asks on Linux). */
export function pathsOf(system: SystemFacts): path.PlatformPath {
  return system.platform === 'win32' ? path.win32 : path.posix;
}

/**
 * The folder the database is kept in when no --db or KMS_RECOVER_DB names one: the same folder
 * whatever folder a prompt starts in (an elevated Windows prompt starts in System32).
 * Windows: %ProgramData%\kms-recover; root on Linux: /var/lib/kms-recover; otherwise the user's
 * XDG state folder ($XDG_STATE_HOME, an absolute path, else ~/.local/state) + kms-recover.
 * KMS_RECOVER_HOME (an absolute path) names another folder for every system: a site's own
 * place, or a test's, which must never share the machine's (a root demo's database in
 * /var/lib/kms-recover would otherwise be every later root test's default).
 */
export function defaultDatabaseFolder(system: SystemFacts): string {
  const p = pathsOf(system);
  const home = system.env.KMS_RECOVER_HOME;
  if (home && p.isAbsolute(home)) return home;
  if (system.platform === 'win32') {
    const programData = system.env.ProgramData ?? system.env.PROGRAMDATA ?? system.env.ALLUSERSPROFILE ?? 'C:\\ProgramData';
    return p.join(programData, 'kms-recover');
  }
  if (system.platform === 'linux' && system.isRoot) return '/var/lib/kms-recover';
  // The XDG base directory specification ignores a relative $XDG_STATE_HOME.
  const state = system.env.XDG_STATE_HOME;
  return p.join(state && p.isAbsolute(state) ? state : p.join(system.home, '.local', 'state'), 'kms-recover');
}

export function fileExists(file: string): boolean {
  return fs.existsSync(file);
}

/** A folder as a command to type: quoted for the shell it is printed for. */
function mkdirCommand(folder: string): string {
  if (process.platform === 'win32') return `mkdir "${folder}"`;
  return `mkdir -p '${folder.replace(/'/g, "'\\''")}'`;
}

const elsewhere = 'or give --db (or KMS_RECOVER_DB) a file in a folder you can write';

/**
 * Checks the database's folder before a command that writes does anything else: there, a
 * folder, and this user may create files in it. `create`: the default place is made (0700:
 * its owner only; Windows: the permissions of %ProgramData%, inherited) when missing; a folder
 * named by --db or KMS_RECOVER_DB never is (a typing error must not create a stray folder).
 * Each refusal is one line with its remedy, and nothing is changed.
 */
export function checkDatabaseFolder(folder: string, options: { create: boolean }): void {
  let stats: fs.Stats | undefined;
  try {
    stats = fs.statSync(folder);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM') throw denied(folder, 'cannot be looked at');
    if (code === 'ENOTDIR') throw new KmsRecoverError('PATH_NOT_DIRECTORY', `the database's folder ${folder} lies under a file, not a folder (${elsewhere})`, { path: folder });
    if (code !== 'ENOENT') throw error;
  }
  if (!stats && !options.create) {
    throw new KmsRecoverError('PATH_MISSING', `the database's folder ${folder} does not exist: create it with: ${mkdirCommand(folder)} (${elsewhere})`, { path: folder });
  }
  if (!stats) {
    try {
      fs.mkdirSync(folder, { recursive: true, mode: 0o700 });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') throw denied(folder, 'cannot be created', code);
      throw error;
    }
    stats = fs.statSync(folder);
  }
  if (!stats.isDirectory()) {
    throw new KmsRecoverError('PATH_NOT_DIRECTORY', `the database's folder ${folder} is not a folder (${elsewhere})`, { path: folder });
  }
  assertWritable(folder);
}

function denied(folder: string, what: string, code?: string): KmsRecoverError {
  const why = code === 'EROFS' ? 'its file system is read-only' : 'permission denied';
  const who = process.platform === 'win32' ? 'run the command from a prompt opened with "Run as administrator"' : 'run the command as a user who may write there';
  return new KmsRecoverError('ACCESS_DENIED', `the database's folder ${folder} ${what} (${why}): ${who}, ${elsewhere}`, { path: folder });
}

/**
 * POSIX: access(2) answers for this user without leaving a trace. Windows: access() only reads
 * the read-only attribute, so a probe file is created and removed (the folder's ACL decides).
 */
function assertWritable(folder: string): void {
  try {
    if (process.platform !== 'win32') {
      fs.accessSync(folder, fs.constants.W_OK | fs.constants.X_OK);
      return;
    }
    const probe = path.join(folder, `.kms-recover-probe-${process.pid}`);
    fs.closeSync(fs.openSync(probe, 'wx'));
    fs.rmSync(probe, { force: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') throw denied(folder, 'is not writable', code);
    throw error;
  }
}
