import type { ManifestSummary, StepError } from '../machines/recovery.types.js';
import { isRecoveryState, isStepName, type RecoveryState, type StepName } from '../machines/recovery.order.js';
import { KmsRecoverError, toErrorRecord } from '../errors/index.js';
import type { FolderIdentity } from '../domain/index.js';

/*
 * A run's row, parsed once, here: everything outside persistence/ reads typed fields. A row this
 * build cannot read (a state it does not know, a snapshot without the run's folders) is refused
 * with DEFINITION_MISMATCH naming the run, never passed on half-understood.
 */

/**
 * Where a run is: its step being worked, failed (waiting for a retry), waiting for the operator
 * (a manual step), done, or abandoned.
 */
export type RunPhase = 'working' | 'waiting' | 'failed' | 'done' | 'abandoned';

/** How long one attempt of a step may take, and how it is retried automatically. */
export interface StepPolicy {
  timeoutMs: number;
  /** Attempts in all, the first included (1: no automatic retry). */
  attempts: number;
  /** First back-off; it doubles per attempt, up to backoffMaxMs, with jitter. */
  backoffMs: number;
  backoffMaxMs: number;
}

/** What a run was started with (and `resume` changed), stored in runs.options. */
export interface RunOptions {
  policies?: Partial<Record<StepName, Partial<StepPolicy>>>;
  /** Steps the operator performs; the tool stops at them and verifies after `confirm`. */
  manual?: StepName[];
  /** How long the started KMS must keep running before `running` (`--settle`, seconds; absent: the default). */
  settleSeconds?: number;
  /** The target computer's name as the start checks found it. */
  computerName?: string;
  /** `--original-name`: the ORIGINAL server's name, which the target's had to equal. */
  originalName?: string;
  /** `--startup-disk` as given at the start, resolved (its path only): the commands the tool prints carry it. */
  startupDisk?: string;
}

/** What a run works on, as given at its start: the service, Kmsdata, the backup and what the backup held (columns of `runs`). */
export interface RunParams {
  serviceName: string;
  kmsdata: string;
  backup: string;
  backupManifest: ManifestSummary;
}

/**
 * What every definition's snapshot holds of the run, as the screens and the driver read it
 * before any migration: the service, the two folders, the backup read at the start, the facts
 * and the last error.
 */
export interface RunContext {
  serviceName: string;
  kmsdata: string;
  backup: string;
  backupManifest: ManifestSummary;
  /** Kmsdata's pinned identity (null: a run from before folders were pinned). */
  kmsdataIdentity: FolderIdentity | null;
  facts: Record<string, unknown>;
  lastError: StepError | null;
}

const PHASES: readonly RunPhase[] = ['working', 'waiting', 'failed', 'done', 'abandoned'];

export function isRunPhase(value: string): value is RunPhase {
  return PHASES.some((phase) => phase === value);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function unreadable(runId: string, what: string): KmsRecoverError {
  return new KmsRecoverError('DEFINITION_MISMATCH',
    `run ${runId} cannot be read by this kms-recover (${what}): use the kms-recover that made it`, { runId });
}

export function parseState(runId: string, value: string): RecoveryState {
  if (!isRecoveryState(value)) throw unreadable(runId, `unknown state "${value}"`);
  return value;
}

export function parsePhase(runId: string, value: string): RunPhase {
  if (!isRunPhase(value)) throw unreadable(runId, `unknown phase "${value}"`);
  return value;
}

const POLICY_FIELDS = ['timeoutMs', 'attempts', 'backoffMs', 'backoffMaxMs'] as const;

/** The stored options, keeping only what is well formed (a value out of range is judged by the policy's own limits). */
export function parseOptions(value: unknown): RunOptions {
  if (!isObject(value)) return {};
  const options: RunOptions = {};
  if (Array.isArray(value.manual)) options.manual = value.manual.filter(isStepName);
  if (typeof value.settleSeconds === 'number') options.settleSeconds = value.settleSeconds;
  if (typeof value.computerName === 'string') options.computerName = value.computerName;
  if (typeof value.originalName === 'string') options.originalName = value.originalName;
  if (typeof value.startupDisk === 'string') options.startupDisk = value.startupDisk;
  if (isObject(value.policies)) {
    const policies: NonNullable<RunOptions['policies']> = {};
    for (const [step, policy] of Object.entries(value.policies)) {
      if (!isStepName(step) || !isObject(policy)) continue;
      const parsed: Partial<StepPolicy> = {};
      for (const field of POLICY_FIELDS) {
        const number = policy[field];
        if (typeof number === 'number') parsed[field] = number;
      }
      policies[step] = parsed;
    }
    options.policies = policies;
  }
  return options;
}

function parseIdentity(value: unknown): FolderIdentity | null {
  return isObject(value) && typeof value.dev === 'string' && typeof value.ino === 'string' ? { dev: value.dev, ino: value.ino } : null;
}

function parseManifestSummary(value: unknown): ManifestSummary | null {
  return isObject(value) && typeof value.fileCount === 'number' && typeof value.totalBytes === 'number' && typeof value.digest === 'string'
    ? { fileCount: value.fileCount, totalBytes: value.totalBytes, digest: value.digest }
    : null;
}

export function parseStepError(value: unknown): StepError | null {
  if (!isObject(value) || typeof value.code !== 'string' || typeof value.message !== 'string' || !isStepName(value.step)) return null;
  // As a step's error was recorded: a code that is not the tool's becomes INTERNAL.
  const { code, message } = toErrorRecord(value);
  return { step: value.step, code, message, ...(isObject(value.detail) ? { detail: value.detail } : {}) };
}

/** The run's parameters as its columns store them; a row without them cannot be driven or shown. */
export function parseParams(runId: string, c: { serviceName: string | null; kmsdata: string | null; backup: string | null; fileCount: number | null; totalBytes: number | null; digest: string | null }): RunParams {
  if (c.serviceName === null || c.kmsdata === null || c.backup === null || c.fileCount === null || c.totalBytes === null || c.digest === null) {
    throw unreadable(runId, 'its row names no Kmsdata, backup, backup manifest or service');
  }
  return { serviceName: c.serviceName, kmsdata: c.kmsdata, backup: c.backup, backupManifest: { fileCount: c.fileCount, totalBytes: c.totalBytes, digest: c.digest } };
}

/** The run's context as its snapshot stores it. */
export function parseContext(runId: string, snapshot: unknown): RunContext {
  const context = isObject(snapshot) && isObject(snapshot.context) ? snapshot.context : undefined;
  const backupManifest = context ? parseManifestSummary(context.backupManifest) : null;
  if (!context || typeof context.kmsdata !== 'string' || typeof context.backup !== 'string' || typeof context.serviceName !== 'string' || !backupManifest) {
    throw unreadable(runId, 'its snapshot names no Kmsdata, backup, backup manifest or service');
  }
  return {
    serviceName: context.serviceName,
    kmsdata: context.kmsdata,
    backup: context.backup,
    backupManifest,
    kmsdataIdentity: parseIdentity(context.kmsdataIdentity),
    facts: isObject(context.facts) ? context.facts : {},
    lastError: parseStepError(context.lastError),
  };
}
