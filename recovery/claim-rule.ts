import { KmsRecoverError } from '../errors/index.js';
import type { Host, ServerClaim, ServerRecovery } from '../host/types.js';
import type { RunRecord, RunQueries } from '../persistence/index.js';
import { momentWords } from '../present/time-words.js';

/**
 * The claim rule: a run changes its server only while the server's claim names it. Before every
 * change (a service stop, each move of the clear, the restore's promotion, the credential, the
 * start, the finish's deletions) the driver reads the claim again; a claim that is gone or names
 * another run stops it with CLAIM_LOST, before it touches anything, saying what it found.
 */
export type ClaimFinding =
  | { kind: 'ours'; path: string }
  /** No claim; `recoveredBy`: the record of a recovery by another run since this one claimed the server. */
  | { kind: 'missing'; path: string; recoveredBy: ServerRecovery | null }
  | { kind: 'other'; path: string; holder: ServerClaim }
  | { kind: 'unreadable'; path: string };

type ClaimReader = Pick<Host, 'serverClaimNow' | 'recoveryRecordNow'>;

/**
 * The run of the recovery record this run found when it claimed the server (noted as
 * `claim.taken`): that recovery is older than the run, not a sign of another run since. A run
 * from before the note counts a record as older when it was written before the run was created.
 */
export function recoveryBefore(run: RunRecord): (record: ServerRecovery) => boolean {
  const taken = run.claimTaken;
  if (taken) return (record) => record.runId === taken.recoveredBefore;
  return (record) => Date.parse(record.recoveredAt) < Date.parse(run.createdAt);
}

/** What stands on the server now for run `runId`: its claim, another's, or none (and whether another run recovered it). */
export function claimFinding(host: ClaimReader, kmsdata: string, runId: string, older: (record: ServerRecovery) => boolean = () => false): ClaimFinding {
  const claim = host.serverClaimNow(kmsdata);
  if (claim.holder?.runId === runId) return { kind: 'ours', path: claim.path };
  if (claim.holder) return { kind: 'other', path: claim.path, holder: claim.holder };
  if (claim.exists) return { kind: 'unreadable', path: claim.path };
  const record = host.recoveryRecordNow(kmsdata);
  return { kind: 'missing', path: claim.path, recoveredBy: record && record.runId !== runId && !older(record) ? record : null };
}

/** True when the server was recovered by, or is claimed by, another run: this run must never touch it again. */
export function isSupersededBy(finding: ClaimFinding): boolean {
  return finding.kind === 'other' || (finding.kind === 'missing' && finding.recoveredBy !== null);
}

/** What was found, in an administrator's words, with the command that ends this run. */
export function findingWords(finding: ClaimFinding, runId: string): string {
  const abandon = `kms-recover abandon ${runId}`;
  switch (finding.kind) {
    case 'ours':
      return `the server's claim ${finding.path} names this run`;
    case 'other':
      return `the server is now claimed by run ${finding.holder.runId} (database ${finding.holder.db}, on ${finding.holder.host} since ${momentWords(finding.holder.claimedAt)}): this run will not touch the server again; end it with ${abandon}`;
    case 'unreadable':
      return `the server's claim ${finding.path} cannot be read as a claim: look at it; if no other recovery of this server is under way, move it away and run kms-recover resume ${runId}, otherwise end this run with ${abandon}`;
    case 'missing':
      return finding.recoveredBy
        ? `the server was recovered by run ${finding.recoveredBy.runId} at ${momentWords(finding.recoveredBy.recoveredAt)} (database ${finding.recoveredBy.db}, on ${finding.recoveredBy.host}) after this run claimed it: this run is stale and will not touch the server again; end it with ${abandon}`
        : `the server's claim ${finding.path} is gone (removed by hand?): if no other recovery of this server is under way, run kms-recover resume ${runId} (it claims the server again); otherwise end this run with ${abandon}`;
  }
}

export function claimLost(finding: Exclude<ClaimFinding, { kind: 'ours' }>, runId: string, before: string): KmsRecoverError {
  const found = finding.kind === 'other' ? { claimRunId: finding.holder.runId, claimDb: finding.holder.db, claimHost: finding.holder.host }
    : finding.kind === 'missing' && finding.recoveredBy ? { recoveredBy: finding.recoveredBy.runId, recoveredDb: finding.recoveredBy.db, recoveredAt: finding.recoveredBy.recoveredAt }
      : {};
  return new KmsRecoverError('CLAIM_LOST',
    `run ${runId} stopped before ${before} without touching the server: ${findingWords(finding, runId)}`,
    { runId, found: finding.kind, claim: finding.path, before, ...found });
}

/** The claim check of a change guard: throws CLAIM_LOST unless the claim names `runId` this instant. */
export function claimCheck(host: ClaimReader, kmsdata: string, runId: string, older: (record: ServerRecovery) => boolean): (before: string) => void {
  return (before) => {
    const finding = claimFinding(host, kmsdata, runId, older);
    if (finding.kind !== 'ours') throw claimLost(finding, runId, before);
  };
}

/** The server's claim as `status` shows it (status --json `server`). */
export interface ServerClaimView {
  claim: ClaimFinding['kind'];
  /** The claim file, beside Kmsdata. */
  path: string;
  claimedBy: { runId: string; db: string; host: string; claimedAt: string } | null;
  /** A recovery of this server by another run since this one claimed it. */
  recoveredBy: ServerRecovery | null;
  /** Recovered or claimed by another run: this run never touches the server again. */
  superseded: boolean;
  /** What was found, in words, with the command that goes on (abandon, for a superseded run). */
  words: string;
}

/**
 * The claim of an open run as it stands on its server now, read-only (status). Null when it
 * cannot be read from here (the server's folder out of reach, say).
 */
export function serverClaimView(host: ClaimReader, store: RunQueries, run: RunRecord): ServerClaimView | null {
  if (run.closedAt !== null) return null;
  let finding: ClaimFinding;
  try {
    finding = claimFinding(host, run.params.kmsdata, run.id, recoveryBefore(run));
  } catch {
    return null;
  }
  const holder = finding.kind === 'other' ? finding.holder : null;
  return {
    claim: finding.kind,
    path: finding.path,
    claimedBy: holder ? { runId: holder.runId, db: holder.db, host: holder.host, claimedAt: holder.claimedAt } : null,
    recoveredBy: finding.kind === 'missing' ? finding.recoveredBy : null,
    superseded: isSupersededBy(finding),
    words: findingWords(finding, run.id),
  };
}
