import { fitted } from './output.js';
import { EXIT, exitStatusFor, isKmsRecoverError, toErrorRecord } from '../errors/index.js';

/**
 * The one place a failure becomes output and an exit status: one line on stderr (or a JSON
 * document with --json). Sets process.exitCode rather than exiting, so logs flush.
 */
export function handleError(error: unknown, options: { json?: boolean; command?: string } = {}): void {
  const raw = toErrorRecord(error);
  // A usage error says where the usage is: `...; see kms-recover start --help`.
  const record = raw.code === 'USAGE' ? { ...raw, message: `${raw.message}; see kms-recover ${options.command ? `${options.command} ` : ''}--help` } : raw;
  const status = isKmsRecoverError(error) ? exitStatusFor(error.code) : EXIT.INTERNAL;
  if (options.json) {
    process.stdout.write(`${JSON.stringify({ error: record }, null, 2)}\n`);
  }
  const oneLine = record.message.replace(/\s*\n\s*/g, ' ');
  process.stderr.write(`${fitted(`kms-recover: ${oneLine}${status === EXIT.INTERNAL ? ` (${record.code})` : ''}`, process.stderr)}\n`);
  if (status === EXIT.INTERNAL && process.env.KMS_RECOVER_DEBUG && error instanceof Error) {
    process.stderr.write(`${error.stack}\n`);
  }
  process.exitCode = status;
}
