export { ALPHA_FROM, EXIT, ERROR_CODES, adviceFor, codeWords, exitStatusFor, isErrorCode, isRetryable, titleOf } from './codes.js';
export type { AdviceContext, AlphaFrom, CodeMeaning, ErrorCode, ExitStatus } from './codes.js';
export { KmsRecoverError, isKmsRecoverError, toErrorRecord } from './kms-recover-error.js';
export type { ErrorRecord } from './kms-recover-error.js';
