import { transition } from '../machines/xstate-runtime.js';
import { KmsRecoverError } from '../errors/index.js';
import { positionOf, recoveryMachine, STEP_NAMES, type RecoveryState } from '../machines/index.js';
import type { FencedRun, RunOptions, RunRecord } from '../persistence/index.js';
import { driveActor } from './drive-actor.js';
import { holdLease } from './drive-lease.js';
import { finishRun } from './finish-run.js';
import { claimFinding, claimLost, recoveryBefore } from './claim-rule.js';
import { claimedBy } from './server-claim.js';
import { assertDefinitionUsable, currentSnapshot, migrateDefinition } from './stored-definition.js';

import type { DriveOptions, DriveOutcome } from './drive-types.js';
import { momentWords } from '../present/time-words.js';

export type { DriveOptions, DriveOutcome } from './drive-types.js';

/**
 * Drives a run from its last checkpoint until it is `running` or a step fails. Every snapshot
 * change is committed (snapshot + event, one transaction) before the next step can touch the
 * host. Restoring the snapshot restarts the step that was in flight at a crash (XState re-runs
 * active promise actors), so steps are idempotent; a run resting in a failed step is retried.
 *
 * The jobs are in files of their own: the lease and its heartbeat (drive-lease.ts), whether the
 * stored definition can be driven (stored-definition.ts), the actor and the store
 * (drive-actor.ts), the retries (retry-schedule.ts).
 */
export async function driveRun(options: DriveOptions): Promise<DriveOutcome> {
  const { store, progress } = options;
  const run = store.getRun(options.runId);
  assertOpen(run);
  if (run.phase !== 'done') assertDefinitionUsable(run);

  const lease = holdLease(options);
  const { fenced, tookOverFrom } = lease;
  try {
    if (tookOverFrom) {
      fenced.note('lease.taken-over', { fromPid: tookOverFrom.pid, fromHost: tookOverFrom.host, since: tookOverFrom.acquiredAt, generation: lease.token, liveness: 'dead' });
      progress.note(`took the run over from pid ${tookOverFrom.pid}, which is no longer running`);
    }
    const recordedOurs = options.host.recoveryRecordNow(run.params.kmsdata)?.runId === run.id;
    // Once its finish recorded the recovery, the run may have released its claim already.
    if (!(run.phase === 'done' && recordedOurs)) await holdServerClaim(options, run, fenced);
    if (run.phase === 'done') {
      // `running` was checkpointed, but the finish after it was cut off: complete it.
      await finishRun({ ...options, fenced, run });
      return { runId: run.id, state: 'running', phase: 'done', lastError: null, finishCompleted: true };
    }
    migrateDefinition(fenced, run);
    if (options.policyChange) changePolicies(fenced, run, options.policyChange);
    if (options.rewindTo) rewind(fenced, run, options.rewindTo, options.rewindDetail ?? {});
    const outcome = await driveActor(options, run, fenced, lease.lost);
    if (outcome.phase === 'done') await finishRun({ ...options, fenced, run: store.getRun(run.id) });
    return outcome;
  } finally {
    lease.release();
  }
}

/** A closed run (finished, or abandoned) is never driven again. */
function assertOpen(run: RunRecord): void {
  if (run.closedAt === null) return;
  if (run.phase === 'abandoned') {
    throw new KmsRecoverError('RUN_FINISHED', `run ${run.id} was abandoned at ${momentWords(run.closedAt)} (at ${run.state}); start a new run to recover this server`, { runId: run.id });
  }
  throw new KmsRecoverError('RUN_FINISHED', `run ${run.id} is already finished (state ${run.state}); nothing to resume`, { runId: run.id });
}

/**
 * The server must be claimed by this run before any step acts (claim-rule.ts). A claim of another
 * run, or the record of a recovery by another run since this one claimed the server, stops the
 * drive with CLAIM_LOST before anything is touched: this run is stale. A run whose claim is
 * simply gone (removed by hand, or a run from before claims) claims the server again, atomically.
 */
async function holdServerClaim(options: DriveOptions, run: RunRecord, fenced: FencedRun): Promise<void> {
  const kmsdata = run.params.kmsdata;
  const finding = claimFinding(options.host, kmsdata, run.id, recoveryBefore(run));
  if (finding.kind === 'ours') return;
  if (finding.kind !== 'missing' || finding.recoveredBy) {
    const error = claimLost(finding, run.id, 'its next step');
    fenced.note('claim.lost', { ...error.detail });
    throw error;
  }
  fenced.assertCurrent();
  const claim = await options.host.claimServer(kmsdata, {
    runId: run.id, db: options.dbPath, host: options.me.host, pid: options.me.pid, processStart: options.me.processStart, claimedAt: new Date().toISOString(), kmsdata,
    ...(typeof run.adapterConfig.server === 'string' ? { server: run.adapterConfig.server } : {}),
  });
  if (!claim.claimed) throw claimedBy(claim.holder, claim.path, { store: options.store, dbPath: options.dbPath });
  fenced.note('claim.renewed', { claim: claim.path });
}

function changePolicies(fenced: FencedRun, run: RunRecord, change: NonNullable<DriveOptions['policyChange']>): void {
  const before = run.options.policies ?? {};
  const after: NonNullable<RunOptions['policies']> = { ...before };
  for (const step of STEP_NAMES) {
    const policy = change.policies[step];
    if (policy) after[step] = { ...before[step], ...policy };
  }
  const settle = change.settleSeconds === undefined ? {}
    : { settleBefore: run.options.settleSeconds ?? null, settleAfter: change.settleSeconds };
  const options = { ...run.options, policies: after, ...(change.settleSeconds === undefined ? {} : { settleSeconds: change.settleSeconds }) };
  fenced.updateOptions(options, { before, after, ...settle, ...change.detail });
  run.options = options;
}

/**
 * `resume --from`: the REWIND is applied with XState's pure transition function, so the step
 * that was in flight is never started again here; the re-entered state's step starts when the
 * run is driven. The machine's guards only allow going back.
 */
function rewind(fenced: FencedRun, run: RunRecord, to: RecoveryState, detail: Record<string, unknown>): void {
  const current = currentSnapshot(run);
  const from = positionOf(current.value);
  const [next] = transition(recoveryMachine, current, { type: 'REWIND', to });
  const position = positionOf(next.value);
  if (position.state !== to) {
    throw new KmsRecoverError('REWIND_REFUSED', `run ${run.id} cannot go back from ${from.state} to ${to}: kms-recover only goes back to an earlier state, never forward past a guard`, { runId: run.id });
  }
  const persisted = recoveryMachine.getPersistedSnapshot(next);
  fenced.checkpoint({ snapshot: persisted, state: position.state, phase: position.phase, event: 'REWIND', detail: { from: from.state, to, ...detail } });
  run.snapshot = persisted;
  run.state = position.state;
  run.phase = position.phase;
}
