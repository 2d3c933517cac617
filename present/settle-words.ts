import { exactSeconds } from './time-words.js';

/*
 * What a start's settle window proved (recovery/settle-window.ts records it in the start's
 * facts), in words. Read from the stored facts, field by field: a run from before a field
 * existed says less, never something wrong.
 */

function field(proof: unknown, name: string): unknown {
  return typeof proof === 'object' && proof !== null ? Reflect.get(proof, name) : undefined;
}

/** `MSExchangeKMS has run for 15 s on the restored database`; null when nothing was proved. */
export function settleProofWords(service: string, proof: unknown): string | null {
  const seconds = field(proof, 'seconds');
  if (typeof seconds !== 'number') return null;
  return `${service} has run for ${exactSeconds(seconds * 1000)} on the ${field(proof, 'restoredFile') ? 'restored database' : 'database in Kmsdata'}`;
}

/** The proof's particulars, for the screen: the process, the file, the KMS identity. */
export function settleProofDetails(proof: unknown): string | null {
  const parts: string[] = [];
  const pid = field(proof, 'pid');
  const databaseId = field(proof, 'databaseId');
  if (typeof pid === 'number') parts.push(`process ${pid} throughout`);
  if (field(proof, 'restoredFile')) parts.push('kmsdata.edb held open is the file the restore wrote');
  if (typeof databaseId === 'string') parts.push(`it reports the backup's KMS ${databaseId}`);
  return parts.length ? parts.join('; ') : null;
}
