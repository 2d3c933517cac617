import { KmsRecoverError } from '../errors/index.js';

/** Run ids are 8 hex characters (recovery/start-run.ts); a prefix of one names it when unique. */
const RUN_ID = /^[0-9a-f]{1,8}$/;

/** A run id or unique prefix from the command line: refused here, before any database is opened. */
export function parseRunId(value: string): string {
  const id = value.trim().toLowerCase();
  if (!RUN_ID.test(id)) {
    const shown = value.length > 24 ? `${value.slice(0, 24)}... (${value.length} characters)` : `"${value}"`;
    throw new KmsRecoverError('USAGE', `a run id is 1 to 8 hex characters (e.g. 3f9a2c1b, or its first few), not ${shown}`);
  }
  return id;
}
