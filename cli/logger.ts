import pino, { type Logger } from 'pino';
import { PRIVATE_FILE_MODE } from '../host/private-file.js';

/**
 * JSON lines to the log file beside the database, written synchronously so the last lines
 * before a crash are on disk. `redact` is a second fence: nothing passes the alpha string to
 * the logger, and these paths would hide it if anything ever did.
 */
export function createFileLogger(file: string): Logger {
  return pino({
    level: process.env.KMS_RECOVER_LOG_LEVEL ?? 'info',
    // For people reading the file: `"time":"2026-12-01T09:02:03.123Z"`, `"level":"warn"`.
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    redact: {
      paths: ['alpha', 'alphaString', 'password', 'pwd', 'startParameters', '*.alpha', '*.alphaString', '*.password', '*.pwd', '*.startParameters'],
      censor: '[redacted]',
    },
  }, pino.destination({ dest: file, sync: true, mkdir: true, mode: PRIVATE_FILE_MODE }));
}
