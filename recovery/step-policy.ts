import { KmsRecoverError } from '../errors/index.js';
import { isStepName, STEP_NAMES, type StepName } from '../machines/recovery.order.js';
import type { RunOptions, StepPolicy } from '../persistence/index.js';

export type { RunOptions, StepPolicy } from '../persistence/index.js';

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

/** A back-off given with `--backoff` doubles per attempt up to this many times its first wait. */
export const BACKOFF_CEILING = 8;

/** What the runtime can honour: Node's timers hold at most 2^31-1 ms; a time limit under 1 s is no limit. */
export const POLICY_LIMITS = {
  timeoutMs: { min: 1_000, max: 24 * 60 * MINUTE, unit: 'seconds' },
  attempts: { min: 1, max: 100, unit: 'attempts' },
  backoffMs: { min: 1, max: 24 * 60 * MINUTE, unit: 'seconds' },
} as const;

function within(value: number | undefined, limits: { min: number; max: number }, fallback: number): number {
  return value !== undefined && Number.isFinite(value) && value >= limits.min && value <= limits.max ? value : fallback;
}

/**
 * The step's policy: the run's own settings over the defaults. A value stored by an older version
 * outside what the runtime can honour falls back to the default (`resume --timeout` sets a new one).
 */
export function policyFor(options: RunOptions, step: StepName): StepPolicy {
  const own = options.policies?.[step] ?? {};
  const base = DEFAULT_POLICIES[step];
  const backoffMs = within(own.backoffMs, POLICY_LIMITS.backoffMs, base.backoffMs);
  return {
    timeoutMs: within(own.timeoutMs, POLICY_LIMITS.timeoutMs, base.timeoutMs),
    attempts: within(own.attempts, POLICY_LIMITS.attempts, base.attempts),
    backoffMs,
    backoffMaxMs: within(own.backoffMaxMs, { min: backoffMs, max: POLICY_LIMITS.backoffMs.max }, Math.max(backoffMs, base.backoffMaxMs)),
  };
}

/** Exponential back-off with "equal jitter": half the delay fixed, half random. */
export function backoffDelay(policy: StepPolicy, attempt: number, random: () => number = Math.random): number {
  const exponential = Math.min(policy.backoffMaxMs, policy.backoffMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exponential / 2 + random() * (exponential / 2));
}

/** The short names a command line may give a step (`--manual start`, `--timeout restore=600`). */
export const STEP_ALIASES: Readonly<Record<string, StepName>> = {
  stop: 'stopService', clear: 'clearKmsdata', restore: 'restoreKmsdata', credential: 'setCredential', start: 'startService',
};

/** Accepts a step name (`stopService`) or its short alias (`stop`). */
export function parseStepName(value: string): StepName {
  // Own keys only: `constructor` or `toString` is not a step.
  const step = isStepName(value) ? value : Object.hasOwn(STEP_ALIASES, value) ? STEP_ALIASES[value] : undefined;
  if (!step) {
    throw new KmsRecoverError('USAGE', `unknown step "${value}" (steps: ${STEP_NAMES.join(', ')}; or ${Object.keys(STEP_ALIASES).join(', ')})`);
  }
  return step;
}

/**
 * Parses `<step>=<seconds>` (timeouts, back-off) or `<step>=<n>` (attempts) from the command line,
 * exactly: a value outside what the runtime can honour is a usage error, never rounded or clamped.
 */
export function parseStepSetting(value: string, kind: 'timeout' | 'attempts' | 'backoff'): [StepName, number] {
  const match = /^([A-Za-z]+)=(\d+(?:\.\d+)?)$/.exec(value);
  if (!match) throw new KmsRecoverError('USAGE', `--${kind} takes <step>=<${kind === 'attempts' ? 'count' : 'seconds'}>, not "${value}"`);
  const step = parseStepName(match[1]!);
  const number = Number(match[2]);
  if (kind === 'attempts') {
    const { min, max } = POLICY_LIMITS.attempts;
    if (!Number.isInteger(number) || number < min || number > max) {
      throw new KmsRecoverError('USAGE', `--attempts needs a whole number from ${min} to ${max}, not "${match[2]}"`);
    }
    return [step, number];
  }
  const limits = kind === 'timeout' ? POLICY_LIMITS.timeoutMs : POLICY_LIMITS.backoffMs;
  const ms = number * 1000;
  if (!Number.isInteger(ms) || ms < limits.min || ms > limits.max) {
    throw new KmsRecoverError('USAGE',
      `--${kind} needs seconds from ${limits.min / 1000} to ${limits.max / 1000} (24 h), in whole milliseconds at most, not "${match[2]}"`);
  }
  return [step, ms];
}

/** --timeout, --attempts and --backoff (each repeatable) into step policies. */
export function policiesFrom(settings: { timeout?: string[]; attempts?: string[]; backoff?: string[] }): NonNullable<RunOptions['policies']> {
  const policies: NonNullable<RunOptions['policies']> = {};
  for (const value of settings.timeout ?? []) {
    const [step, ms] = parseStepSetting(value, 'timeout');
    policies[step] = { ...policies[step], timeoutMs: ms };
  }
  for (const value of settings.attempts ?? []) {
    const [step, n] = parseStepSetting(value, 'attempts');
    policies[step] = { ...policies[step], attempts: n };
  }
  for (const value of settings.backoff ?? []) {
    const [step, ms] = parseStepSetting(value, 'backoff');
    policies[step] = { ...policies[step], backoffMs: ms, backoffMaxMs: Math.min(POLICY_LIMITS.backoffMs.max, BACKOFF_CEILING * ms) };
  }
  return policies;
}
