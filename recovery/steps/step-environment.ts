import type { Logger } from 'pino';
import type { ChangeGuard, Host, ProgressCallback } from '../../host/types.js';
import type { StepInputs, StepName, StepOutputs } from '../../machines/index.js';
import type { FencedRun, RunQueries } from '../../persistence/index.js';
import type { AlphaSupply } from '../alpha-string.js';
import type { ProgressSink } from '../progress.js';
import type { RunOptions } from '../step-policy.js';
import type { WorkActivity } from '../work-progress.js';

/** What every step is given: the run's store (reads) and fenced writer, the server, the operator's side. */
export interface StepEnvironment {
  runId: string;
  /** Reads (the manifest, attempts); every write goes through `fenced`. */
  store: RunQueries;
  /** This driver's fenced writes: refused (LEASE_LOST) once the run was taken over. */
  fenced: FencedRun;
  /** Aborted when the drive ends under the steps (lease lost, database failing). */
  lost: AbortSignal;
  /** Throws CLAIM_LOST unless the server's claim names this run this instant (claim-rule.ts); `before` names the change. */
  assertClaim: (before: string) => void;
  host: Host;
  /** The alpha string when a step needs it (null: resumed without one; the credential steps then fail clearly). */
  alpha: AlphaSupply;
  progress: ProgressSink;
  logger: Logger;
  options: RunOptions;
}

/** Makes the progress callback of one kind of work of the attempt at hand. */
export type Track = (activity: WorkActivity) => ProgressCallback;

/** What a step does in one attempt, given its input, the attempt's guard and its progress. */
export type Effect<K extends StepName> = (input: StepInputs[K], guard: ChangeGuard, track: Track) => Promise<StepOutputs[K]>;

/** A step as the runner needs it: the tool's effect, and the check of the operator's work after a confirm. */
export interface StepEffects<K extends StepName> {
  effect: Effect<K>;
  verifyManual: Effect<K>;
  /** The effect gives the alpha string (asked, if it must be, before the attempt begins, so typing it is not timed). */
  needsAlpha?: boolean;
}
