export { EXIT, ERROR_CODES, adviceFor, exitStatusFor, isErrorCode, isRetryable } from './codes.js';
export type { AdviceContext, CodeMeaning, ErrorCode, ExitStatus } from './codes.js';
export { KmsRecoverError, isKmsRecoverError, toErrorRecord } from './kms-recover-error.js';
export type { ErrorRecord } from './kms-recover-error.js';
