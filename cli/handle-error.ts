import { EXIT, exitStatusFor, isKmsRecoverError, toErrorRecord } from '../errors/index.js';

/**
 * The one place a failure becomes output and an exit status: one line on stderr (or a JSON
 * document with --json). Sets process.exitCode rather than exiting, so logs flush.
 */
export function handleError(error: unknown, options: { json?: boolean } = {}): void {
  const record = toErrorRecord(error);
  const status = isKmsRecoverError(error) ? exitStatusFor(error.code) : EXIT.INTERNAL;
  if (options.json) {
    process.stdout.write(`${JSON.stringify({ error: record }, null, 2)}\n`);
  }
  const oneLine = record.message.replace(/\s*\n\s*/g, ' ');
  process.stderr.write(`kms-recover: ${oneLine}${status === EXIT.INTERNAL ? ` (${record.code})` : ''}\n`);
  if (status === EXIT.INTERNAL && process.env.KMS_RECOVER_DEBUG && error instanceof Error) {
    process.stderr.write(`${error.stack}\n`);
  }
  process.exitCode = status;
}
