import { isErrorCode, type ErrorCode } from './codes.js';

/**
 * The one error type the tool throws on purpose. `code` is stable (scripts match on it,
 * the CLI maps it to an exit status); `message` is one line for a human; `detail` holds
 * structured, secret-free facts (paths, file names, run ids) for `--json` and the log.
 */
export class KmsRecoverError extends Error {
  readonly code: ErrorCode;
  readonly detail: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, message: string, detail: Record<string, unknown> = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'KmsRecoverError';
    this.code = code;
    this.detail = detail;
  }
}

export function isKmsRecoverError(value: unknown): value is KmsRecoverError {
  return value instanceof KmsRecoverError;
}

/** The plain, serializable shape of an error as it is stored in a run and printed by `--json`. */
export interface ErrorRecord {
  code: ErrorCode;
  message: string;
  detail?: Record<string, unknown>;
}

export function toErrorRecord(error: unknown): ErrorRecord {
  if (isKmsRecoverError(error)) {
    return Object.keys(error.detail).length
      ? { code: error.code, message: error.message, detail: { ...error.detail } }
      : { code: error.code, message: error.message };
  }
  // A stored record (it crossed a snapshot) keeps its code only if it is one of ours: an errno
  // such as EINVAL is not a tool code, and becomes INTERNAL with the errno in its message.
  if (error && typeof error === 'object' && 'code' in error && 'message' in error) {
    const { code, message } = error;
    if (typeof code === 'string' && typeof message === 'string') {
      return isErrorCode(code) ? { code, message } : { code: 'INTERNAL', message: `${message} (${code})` };
    }
  }
  return { code: 'INTERNAL', message: error instanceof Error ? error.message : String(error) };
}
