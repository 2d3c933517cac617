import type { InspectionEvent } from 'xstate';
import { createActor } from '../machines/xstate-runtime.js';
import { toErrorRecord } from '../errors/index.js';
import { failPoint } from '../host/fail-point.js';
import { FACTS_OF_STATE, positionOf, recoveryMachine, type RecoveryPosition, type RecoverySnapshot, type RecoveryState } from '../machines/index.js';
import type { FencedRun, RunRecord } from '../persistence/index.js';
import type { DriveOptions, DriveOutcome } from './drive-types.js';
import { claimCheck, recoveryBefore } from './claim-rule.js';
import { RetrySchedule } from './retry-schedule.js';
import { stepActors } from './steps/index.js';
import { inputOf, restoreActor, storedSnapshot } from './stored-definition.js';

/**
 * The bridge between the run's actor and its store: restores the actor from the run's snapshot
 * and runs it until it rests, committing every snapshot change (snapshot + event, one
 * transaction) before the next step can touch the host.
 */
export async function driveActor(options: DriveOptions, run: RunRecord, fenced: FencedRun, lost: AbortSignal): Promise<DriveOutcome> {
  const { store, logger, progress } = options;
  lost.throwIfAborted();
  const assertClaim = claimCheck(options.host, run.params.kmsdata, run.id, recoveryBefore(run));
  const machine = recoveryMachine.provide({
    actors: stepActors({ runId: run.id, store, fenced, lost, assertClaim, host: options.host, alpha: options.alpha, progress, logger, options: run.options }),
  });

  let lastWritten = JSON.stringify(run.snapshot);
  let stopping = false;
  let settle!: { resolve: (outcome: DriveOutcome) => void; reject: (error: unknown) => void };
  const settled = new Promise<DriveOutcome>((resolve, reject) => { settle = { resolve, reject }; });
  lost.addEventListener('abort', () => settle.reject(lost.reason), { once: true });

  const actor = restoreActor(() => createActor(machine, {
    snapshot: storedSnapshot(run),
    input: inputOf(run),
    inspect: (inspection: InspectionEvent) => {
      if (inspection.type !== '@xstate.snapshot' || inspection.actorRef !== actor) return;
      // The actor's snapshot is already the one inspected. Stopping the actor at the end of this
      // process is not a state of the run: never persist it.
      const snapshot = actor.getSnapshot();
      if (stopping || snapshot.status === 'stopped') return;
      try {
        const outcome = commit(snapshot, inspection.event);
        if (outcome) settle.resolve(outcome);
      } catch (error) {
        // A checkpoint that did not commit (the database's disk failed, the lease was lost) ends
        // the drive, and this process commits nothing after it: a step the machine had already
        // started is refused by its own write-ahead record, and that refusal is no state of the run.
        stopping = true;
        settle.reject(error);
      }
    },
  }), run.id);
  const retries = new RetrySchedule({ runId: run.id, store, fenced, options: run.options, logger, progress, retry: () => actor.send({ type: 'RETRY' }) });

  /** Commits one snapshot change; returns the outcome when the run comes to rest. */
  function commit(snapshot: RecoverySnapshot, event: { type: string; output?: unknown; error?: unknown; step?: unknown }): DriveOutcome | null {
    const persisted = actor.getPersistedSnapshot();
    const json = JSON.stringify(persisted);
    if (json === lastWritten) return null;
    const position = positionOf(snapshot.value);
    const previous = positionOf(JSON.parse(lastWritten).value);
    fenced.checkpoint({
      snapshot: persisted, state: position.state, phase: position.phase, event: event.type,
      detail: eventDetail(event, position, snapshot),
    });
    lastWritten = json;
    failPoint(`after-checkpoint:${position.state}`);
    logger.info({ runId: run.id, event: event.type, from: previous.state, to: position.state, phase: position.phase }, 'checkpoint');
    // A state reached is told even when the next step waits for the operator: `[3/5] restored`
    // comes before "waiting for you at KB steps 5-7", not never.
    if (position.state !== previous.state && position.phase !== 'failed') {
      progress.reached(position.state, factsOf(snapshot, position.state));
    }
    const lastError = snapshot.context.lastError;
    if (position.phase === 'failed' && lastError) {
      progress.stepFailed(position.state, lastError);
      logger.error({ runId: run.id, state: position.state, code: lastError.code, err: lastError.message }, 'step failed');
      if (retries.afterFailure(position.state, lastError)) return null;
    }
    if (position.phase === 'waiting' || position.phase === 'failed' || snapshot.status === 'done') {
      return { runId: run.id, ...position, lastError };
    }
    return null;
  }

  const subscription = actor.subscribe({ error: (error) => settle.reject(error) });
  try {
    actor.start();
    const resumedAt = positionOf(actor.getSnapshot().value);
    if (resumedAt.phase === 'failed') retries.resume(resumedAt.state);
    if (resumedAt.phase === 'waiting') {
      // The operator's CONFIRM is a transition of the machine, checkpointed under this driver's
      // fence like every other; without one the run stays where it waits for the operator.
      if (options.confirm) actor.send({ type: 'CONFIRM', step: options.confirm });
      else settle.resolve({ runId: run.id, ...resumedAt, lastError: actor.getSnapshot().context.lastError });
    }
    return await settled;
  } finally {
    retries.cancel();
    subscription.unsubscribe();
    stopping = true;
    actor.stop();
  }
}

function eventDetail(event: { type: string; output?: unknown; error?: unknown; step?: unknown }, position: RecoveryPosition, snapshot: RecoverySnapshot): Record<string, unknown> {
  const detail: Record<string, unknown> = { phase: position.phase };
  if (event.type === 'CONFIRM') detail.confirmed = { step: event.step, covers: snapshot.context.confirmed };
  if (event.output !== undefined) detail.facts = event.output;
  if (event.error !== undefined) detail.error = toErrorRecord(event.error);
  else if (position.phase === 'failed' && snapshot.context.lastError) detail.error = snapshot.context.lastError;
  return detail;
}

/** The facts the run recorded on arriving in `state`. */
function factsOf(snapshot: RecoverySnapshot, state: RecoveryState): unknown {
  return state === 'reinstalled' ? undefined : snapshot.context.facts[FACTS_OF_STATE[state]];
}
