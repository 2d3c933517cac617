import { KmsRecoverError } from '../errors/index.js';
import { currentUser } from '../host/process-identity.js';
import type { Host } from '../host/types.js';
import { drivenBy, FencedRun, peekRun, type LeaseHolder, type LeaseRecord, type RunLeases, type RunRecord, type RunStore } from '../persistence/index.js';
import { serverCondition, type ServerCondition } from './server-condition.js';
import { momentWords } from '../present/time-words.js';

export interface AbandonReport {
  runId: string;
  state: string;
  condition: ServerCondition;
  claimReleased: boolean;
}

export interface AbandonRequest {
  store: RunStore;
  leases: RunLeases;
  host: Host;
  run: RunRecord;
  me: LeaseHolder;
  isAlive: (holder: LeaseRecord) => boolean;
  reason: string | null;
  /** Shown what abandoning leaves; throws to say no. */
  confirm: (condition: ServerCondition) => Promise<void>;
}

/**
 * Ends a run deliberately: it is closed as `abandoned` (with who and why) under its lease, whose
 * generation is raised so a paused driver can write nothing more, and the server's claim is
 * released. Nothing on the server is changed: the report says what it holds, and the next run of
 * this server deletes the abandoned run's quarantine and staging folders once the KMS runs.
 */
export async function abandonRun(request: AbandonRequest): Promise<AbandonReport> {
  const { store, leases, host, run, me } = request;
  if (run.closedAt !== null) {
    throw new KmsRecoverError('RUN_FINISHED', `run ${run.id} is already ${run.phase === 'abandoned' ? 'abandoned' : 'finished'} (${momentWords(run.closedAt)}); nothing to abandon`, { runId: run.id });
  }
  if (run.phase === 'done') {
    throw new KmsRecoverError('RUN_FINISHED',
      `run ${run.id} already recovered the server (running); only its clean-up is left: complete it with kms-recover resume ${run.id}`, { runId: run.id });
  }
  const holder = leases.holder(run.id);
  if (holder && request.isAlive(holder)) {
    throw new KmsRecoverError('RUN_LOCKED',
      `${drivenBy(run.id, holder)}: stop that process first (or, if it is gone, kms-recover takeover ${run.id})`,
      { runId: run.id, pid: holder.pid, host: holder.host });
  }
  const condition = await serverCondition(host, run.params.serviceName, run.params.kmsdata, store.manifest(run.id));
  await request.confirm(condition);
  const { token } = leases.acquire(run.id, me, request.isAlive);
  try {
    const fenced = new FencedRun(store, run.id, token);
    fenced.close({
      abandoned: true, event: 'run.abandoned',
      detail: {
        by: { host: me.host, pid: me.pid, user: currentUser() }, reason: request.reason,
        service: condition.service, kmsdata: condition.kmsdata.holds, folders: condition.folders.map((f) => f.path),
      },
    });
  } finally {
    leases.release(run.id, token);
  }
  const claimReleased = await host.releaseServerClaim(run.params.kmsdata, run.id);
  return { runId: run.id, state: run.state, condition, claimReleased };
}

/**
 * The claim of a run whose database is lost (or never recorded it): released only when the claim
 * names that run and its database says nothing of it. Nothing else is touched.
 */
export async function abandonClaim(host: Host, kmsdata: string, runId: string): Promise<{ claim: string; db: string }> {
  const existing = await host.readServerClaim(kmsdata);
  if (!existing || existing.holder?.runId !== runId) {
    throw new KmsRecoverError('RUN_NOT_FOUND',
      existing ? `the claim ${existing.path} names ${existing.holder ? `run ${existing.holder.runId}` : 'no readable run'}, not run ${runId}` : `no claim on ${kmsdata}: nothing to release`,
      { runId, kmsdata });
  }
  const peek = peekRun(existing.holder.db, runId);
  if (peek.found && peek.closedAt === null) {
    throw new KmsRecoverError('RUN_LOCKED',
      `run ${runId} is still open in its database ${existing.holder.db}: abandon it there: kms-recover abandon ${runId} --db ${existing.holder.db}`,
      { runId, db: existing.holder.db });
  }
  await host.releaseServerClaim(kmsdata, runId);
  return { claim: existing.path, db: existing.holder.db };
}
