import type { FolderIdentity, LedgerEntry } from '../domain/index.js';
import type { RunOptions, RunPhase } from './run-record.js';
import type { CloseEvent, NoteDetails, NoteEvent } from './run-events.js';
import type { Checkpoint, RunStore, StepProgressRecord } from './run-store.js';

/**
 * A driver's handle on its run: every write carries the fencing token of the lease it holds, and
 * the store refuses it (LEASE_LOST) once the run was taken over or abandoned. The driver and the
 * steps get only this, never the store's unfenced writes.
 */
export class FencedRun {
  constructor(private readonly store: RunStore, readonly runId: string, readonly token: number) {}

  checkpoint(checkpoint: Checkpoint): number {
    return this.store.checkpoint(this.runId, checkpoint, this.token);
  }

  beginStep(state: string, step: string, timeoutMs?: number, how: { verifying?: boolean } = {}): number {
    return this.store.beginStep(this.runId, state, step, timeoutMs, this.token, how);
  }

  note<E extends NoteEvent>(event: E, detail: NoteDetails[E]): number {
    return this.store.note(this.runId, event, { ...detail }, this.token);
  }

  scheduleRetry(step: string, attempt: number, nextAttemptAt: string, detail: Record<string, unknown>): void {
    this.store.scheduleRetry(this.runId, step, attempt, nextAttemptAt, detail, this.token);
  }

  migrateDefinition(to: { machineVersion: number; definitionHash: string; snapshot: unknown; phase: RunPhase }, detail: Record<string, unknown>): void {
    this.store.migrateDefinition(this.runId, to, detail, this.token);
  }

  updateOptions(options: RunOptions, detail: Record<string, unknown>): void {
    this.store.updateOptions(this.runId, options, detail, this.token);
  }

  progress(progress: Omit<StepProgressRecord, 'startedAt' | 'updatedAt'>): void {
    this.store.recordProgress(this.runId, progress, this.token);
  }

  recordStartRequested(service: string, at: string): void {
    this.store.recordStartRequested(this.runId, service, at, this.token);
  }

  recordPromoting(identity: FolderIdentity): void {
    this.store.recordPromoting(this.runId, identity, this.token);
  }

  recordQuarantined(entries: readonly LedgerEntry[]): void {
    this.store.recordQuarantined(this.runId, entries, this.token);
  }

  close(how: { abandoned: boolean; event: CloseEvent; detail: Record<string, unknown> }): void {
    this.store.close(this.runId, how, this.token);
  }

  /** Throws LEASE_LOST if this driver may no longer act: called before every side effect. */
  assertCurrent(): void {
    this.store.assertFence(this.runId, this.token);
  }
}
