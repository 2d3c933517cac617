import path from 'node:path';
import { defaultDatabaseFolder, fileExists, pathsOf, thisSystem, type SystemFacts } from '../host/database-folder.js';
import { progressLine } from './output.js';
import { commandsUseDatabase } from './printed-commands.js';

export const DEFAULT_DB = 'kms-recover.db';

/** Who chose the database: `--db`, KMS_RECOVER_DB, an old ./kms-recover.db found in the current folder, or the default place. */
export type DatabaseOrigin = 'option' | 'environment' | 'found-here' | 'default';

export interface DatabasePlace {
  path: string;
  origin: DatabaseOrigin;
  /** Where the database is kept when nothing names one (README, "Where things are kept"). */
  defaultPath: string;
  /** `./kms-recover.db` of the folder the command runs in (looked for when nothing names one). */
  herePath: string;
}

/**
 * `--db`, else KMS_RECOVER_DB (each resolved against the current folder), else a
 * ./kms-recover.db already in the current folder (where releases before the fixed place kept
 * it), else the default place, which does not depend on the current folder.
 */
export function databasePlace(option: string | undefined, system: SystemFacts = thisSystem(), exists: (file: string) => boolean = fileExists): DatabasePlace {
  const p = pathsOf(system);
  const defaultPath = p.join(defaultDatabaseFolder(system), DEFAULT_DB);
  const herePath = p.resolve(system.cwd, DEFAULT_DB);
  const named = option ?? (system.env.KMS_RECOVER_DB || undefined);
  if (named !== undefined) return { path: p.resolve(system.cwd, named), origin: option !== undefined ? 'option' : 'environment', defaultPath, herePath };
  if (herePath !== defaultPath && exists(herePath)) return { path: herePath, origin: 'found-here', defaultPath, herePath };
  return { path: defaultPath, origin: 'default', defaultPath, herePath };
}

let told = false;

/**
 * The database a command works on. An old ./kms-recover.db found in the current folder is
 * used, and said once per process on stderr, so the administrator knows the default moved.
 */
export function resolveDatabase(option: string | undefined): DatabasePlace {
  const place = databasePlace(option);
  commandsUseDatabase(place);
  if (place.origin === 'found-here' && !told) {
    told = true;
    progressLine(`kms-recover: using .${path.sep}${DEFAULT_DB} in this folder (found here: ${place.path}); the default place is now ${place.defaultPath}`);
  }
  return place;
}

/** The path of the database a command works on (see databasePlace). */
export function databasePath(option: string | undefined): string {
  return resolveDatabase(option).path;
}

/** The JSON-lines log lives beside the database: `x.db` logs to `x.log`. */
export function logPathFor(dbPath: string): string {
  const ext = path.extname(dbPath);
  return ext ? `${dbPath.slice(0, -ext.length)}.log` : `${dbPath}.log`;
}
