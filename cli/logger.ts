import pino, { type Logger } from 'pino';
import { fileError } from '../host/fs/file-errors.js';
import { PRIVATE_FILE_MODE } from '../host/private-file.js';

/**
 * JSON lines to the log file beside the database, written synchronously so the last lines
 * before a crash are on disk. `redact` is a second fence: nothing passes the alpha string to
 * the logger, and these paths would hide it if anything ever did.
 */
export function createFileLogger(file: string): Logger {
  const destination = pino.destination({ dest: file, sync: true, mkdir: true, mode: PRIVATE_FILE_MODE });
  // A log the disk cannot take (full, failing) is said once, and the command goes on: the
  // database holds the run's record, and a recovery stopped for its diagnostics would leave the
  // server half-way. Unheard, the stream's error ended the process as a bug (exit 1).
  let told = false;
  destination.on('error', (error: unknown) => {
    if (told) return;
    told = true;
    const said = fileError(error, { file }, (failure, why) => `cannot write the log ${file}: ${failure === 'denied' ? 'permission denied' : why}`).message;
    process.stderr.write(`kms-recover: ${said}; going on without it (the database keeps the run's record)\n`);
  });
  return pino({
    level: process.env.KMS_RECOVER_LOG_LEVEL ?? 'info',
    // For people reading the file: `"time":"2026-12-01T09:02:03.123Z"`, `"level":"warn"`.
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    redact: {
      paths: ['alpha', 'alphaString', 'password', 'pwd', 'startParameters', '*.alpha', '*.alphaString', '*.password', '*.pwd', '*.startParameters'],
      censor: '[redacted]',
    },
  }, destination);
}
