export { EXIT, ERROR_EXIT, exitStatusFor } from './codes.js';
export type { ErrorCode, ExitStatus } from './codes.js';
export { KmsRecoverError, isKmsRecoverError, toErrorRecord } from './kms-recover-error.js';
export type { ErrorRecord } from './kms-recover-error.js';
