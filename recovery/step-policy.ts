import { KmsRecoverError } from '../errors/index.js';
import { STEP_OF_STATE, type StepName } from '../machines/recovery.types.js';

/** How long one attempt of a step may take, and how it is retried automatically. */
export interface StepPolicy {
  timeoutMs: number;
  /** Attempts in all, the first included (1: no automatic retry). */
  attempts: number;
  /** First back-off; it doubles per attempt, up to backoffMaxMs, with jitter. */
  backoffMs: number;
  backoffMaxMs: number;
}

export const STEP_NAMES = Object.values(STEP_OF_STATE) as StepName[];

const MINUTE = 60_000;

/**
 * Defaults sized for a real Exchange 5.5 server: stopping the KMS can take minutes, a restore of
 * a large Kmsdata tens of minutes. The credential step reads a file or memory: one attempt.
 */
export const DEFAULT_POLICIES: Record<StepName, StepPolicy> = {
  stopService: { timeoutMs: 5 * MINUTE, attempts: 3, backoffMs: 5_000, backoffMaxMs: MINUTE },
  clearKmsdata: { timeoutMs: 10 * MINUTE, attempts: 3, backoffMs: 5_000, backoffMaxMs: MINUTE },
  restoreKmsdata: { timeoutMs: 120 * MINUTE, attempts: 2, backoffMs: 10_000, backoffMaxMs: MINUTE },
  setCredential: { timeoutMs: 5 * MINUTE, attempts: 1, backoffMs: 1_000, backoffMaxMs: 1_000 },
  startService: { timeoutMs: 5 * MINUTE, attempts: 2, backoffMs: 10_000, backoffMaxMs: MINUTE },
};

/** What a run was started with, stored in runs.options. */
export interface RunOptions {
  policies?: Partial<Record<StepName, Partial<StepPolicy>>>;
  /** Steps the operator performs; the tool stops at them and verifies after `confirm`. */
  manual?: StepName[];
}

export function policyFor(options: RunOptions, step: StepName): StepPolicy {
  return { ...DEFAULT_POLICIES[step], ...options.policies?.[step] };
}

/**
 * Errors worth an automatic retry: the server may be busy (a file briefly in use, a service
 * slow to stop or start). A wrong alpha string, a changed backup or a missing disk are not.
 */
const RETRYABLE = new Set(['FILE_IN_USE', 'SERVICE_STOP_FAILED', 'SERVICE_START_FAILED', 'STEP_FAILED', 'INJECTED_FAULT']);

export function isRetryable(code: string): boolean {
  return RETRYABLE.has(code);
}

/** Exponential back-off with "equal jitter": half the delay fixed, half random. */
export function backoffDelay(policy: StepPolicy, attempt: number, random: () => number = Math.random): number {
  const exponential = Math.min(policy.backoffMaxMs, policy.backoffMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exponential / 2 + random() * (exponential / 2));
}

const STEP_ALIASES: Record<string, StepName> = {
  stop: 'stopService', clear: 'clearKmsdata', restore: 'restoreKmsdata', credential: 'setCredential', start: 'startService',
};

/** Accepts a step name (`stopService`) or its short alias (`stop`). */
export function parseStepName(value: string): StepName {
  const step = (STEP_NAMES as string[]).includes(value) ? (value as StepName) : STEP_ALIASES[value];
  if (!step) {
    throw new KmsRecoverError('USAGE', `unknown step "${value}" (steps: ${STEP_NAMES.join(', ')}; or ${Object.keys(STEP_ALIASES).join(', ')})`);
  }
  return step;
}

/** Parses `<step>=<seconds>` (timeouts) or `<step>=<n>` (attempts) from the command line. */
export function parseStepSetting(value: string, kind: 'timeout' | 'attempts' | 'backoff'): [StepName, number] {
  const match = /^([A-Za-z]+)=(\d+(?:\.\d+)?)$/.exec(value);
  if (!match) throw new KmsRecoverError('USAGE', `--${kind} takes <step>=<${kind === 'attempts' ? 'count' : 'seconds'}>, not "${value}"`);
  const number = Number(match[2]);
  if (kind === 'attempts' && (!Number.isInteger(number) || number < 1)) {
    throw new KmsRecoverError('USAGE', `--attempts needs a whole number of at least 1, not "${match[2]}"`);
  }
  if (kind !== 'attempts' && number <= 0) throw new KmsRecoverError('USAGE', `--${kind} needs a positive number of seconds, not "${match[2]}"`);
  return [parseStepName(match[1]!), kind === 'attempts' ? number : Math.round(number * 1000)];
}
