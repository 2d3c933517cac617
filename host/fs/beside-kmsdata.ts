import path from 'node:path';

/** A file of kms-recover's beside Kmsdata, in `Exchsrvr` (the claim, the record of a recovery). */
export function besideKmsdata(kmsdata: string, name: string): string {
  return path.join(path.dirname(path.resolve(kmsdata)), name);
}

/** Whether `value`, parsed from such a file, is an object whose `keys` are all strings. */
export function hasStringFields(value: unknown, keys: readonly string[]): value is Record<string, string> {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return keys.every((key) => typeof v[key] === 'string');
}
