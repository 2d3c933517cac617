import path from 'node:path';

export const DEFAULT_DB = 'kms-recover.db';

/** `--db`, else KMS_RECOVER_DB, else ./kms-recover.db; resolved against the working directory. */
export function databasePath(option: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(option ?? env.KMS_RECOVER_DB ?? DEFAULT_DB);
}

/** The JSON-lines log lives beside the database: `x.db` logs to `x.log`. */
export function logPathFor(dbPath: string): string {
  const ext = path.extname(dbPath);
  return ext ? `${dbPath.slice(0, -ext.length)}.log` : `${dbPath}.log`;
}
