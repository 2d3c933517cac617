import type { Logger } from 'pino';
import type { ErrorRecord } from '../errors/index.js';
import type { Host } from '../host/types.js';
import type { RecoveryPosition, RecoveryState, StepName } from '../machines/index.js';
import type { LeaseHolder, LeaseRecord, RunLeases, RunOptions, RunStore } from '../persistence/index.js';
import type { AlphaSupply } from './alpha-string.js';
import type { ProgressSink } from './progress.js';

/* What a drive is given and what it ends with (drive-run.ts drives; drive-actor.ts runs the actor). */

export interface DriveOptions {
  store: RunStore;
  leases: RunLeases;
  runId: string;
  host: Host;
  /** The alpha string, when a step needs it (read at the start, or asked then: alpha-string.ts). */
  alpha: AlphaSupply;
  progress: ProgressSink;
  logger: Logger;
  me: LeaseHolder;
  isAlive: (holder: LeaseRecord) => boolean;
  /** The database file, named in the server's claim. */
  dbPath: string;
  heartbeatMs?: number;
  /** `resume --timeout/--attempts/--backoff`: new step policies, recorded before the drive. */
  policyChange?: { policies: NonNullable<RunOptions['policies']>; settleSeconds?: number; detail: Record<string, unknown> };
  /** `resume --from`: re-enter this earlier state (already confirmed by the operator) first. */
  rewindTo?: RecoveryState;
  rewindDetail?: Record<string, unknown>;
  /** `confirm`: the manual step the operator did; sent to the machine as CONFIRM once the run is held. */
  confirm?: StepName;
  /** Aborted by SIGINT or SIGTERM (its reason: the signal's name): the drive ends cleanly and says where. */
  interrupt?: AbortSignal;
}

export interface DriveOutcome extends RecoveryPosition {
  runId: string;
  lastError: ErrorRecord | null;
  /** The run had already reached `running`; this drive only completed its interrupted finish. */
  finishCompleted?: boolean;
}
