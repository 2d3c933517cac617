import { KmsRecoverError } from '../errors/index.js';
import type { Host, ServerClaim } from '../host/types.js';
import { peekRun, type LeaseRecord, type PeekedRun, type RunQueries } from '../persistence/index.js';
import { driverOf, holderIsAlive, livenessWords } from './lease-policy.js';
import { momentWords } from '../present/time-words.js';

/**
 * The key that names a server in the database: its Kmsdata folder, absolute (compared without
 * case on Windows, where `C:\exchsrvr\KMSDATA` and `c:\Exchsrvr\Kmsdata` are one folder).
 */
export function serverKeyOf(kmsdata: string, adapter: string): string {
  return adapter === 'windows' ? kmsdata.toLowerCase() : kmsdata;
}

/** The one line that names the run holding a server, its state and database, and what to type. */
export function claimedBy(claim: ServerClaim | null, claimPath: string, here: { store: RunQueries | null; dbPath: string }): KmsRecoverError {
  if (!claim) {
    return new KmsRecoverError('SERVER_CLAIMED',
      `this server is claimed by ${claimPath}, which cannot be read as a claim (another kms-recover may be writing it this instant): look again; if no recovery is under way, move that file away by hand`,
      { claim: claimPath });
  }
  const dbFlag = claim.db === here.dbPath ? '' : ` --db ${quote(claim.db)}`;
  const peek = peekRun(claim.db, claim.runId);
  const detail = { runId: claim.runId, db: claim.db, claimHost: claim.host, claimedAt: claim.claimedAt, claim: claimPath };
  if (peek.found) {
    return new KmsRecoverError('SERVER_CLAIMED',
      `this server is being recovered by run ${claim.runId} (at ${peek.state}, ${whereRunIs(peek)}; database ${claim.db}; started ${momentWords(claim.claimedAt)} on ${claim.host}): ${whatToType(peek, claim.runId, dbFlag)}`,
      { ...detail, state: peek.state, phase: peek.phase });
  }
  const why = peek.why === 'no-database' ? `its database ${claim.db} is gone`
    : peek.why === 'no-run' ? `its database ${claim.db} holds no such run (it was cut off before it began)`
      : `its database ${claim.db} cannot be read`;
  return new KmsRecoverError('SERVER_CLAIMED',
    `this server is claimed by run ${claim.runId} (started ${momentWords(claim.claimedAt)} on ${claim.host}), but ${why}: if that run will never be continued, release the server with kms-recover abandon ${claim.runId} --kmsdata ${quote(claim.kmsdata)}`,
    { ...detail, why: peek.why });
}

/**
 * A claim whose run was never written (its process died between claiming the server and
 * creating the run, on this machine, and its database holds no such run) changed nothing on the
 * server: it is released, so the next start is not blocked by it. True if released.
 */
export async function releaseIfStillborn(host: Host, kmsdata: string, claim: ServerClaim | null, here: { store: RunQueries | null; dbPath: string }): Promise<boolean> {
  // A claimer on another machine counts as alive (holderIsAlive): only this machine's are judged.
  if (!claim) return false;
  const peek = peekRun(claim.db, claim.runId);
  // A lost database (or one that cannot be read) may have held a run that changed the server: never released here.
  if (peek.found || peek.why !== 'no-run') return false;
  const claimer: LeaseRecord = {
    host: claim.host, pid: claim.pid, processStart: claim.processStart ?? null,
    acquiredAt: claim.claimedAt, heartbeatAt: claim.claimedAt, generation: 0,
  };
  if (holderIsAlive(claimer)) return false;
  return host.releaseServerClaim(kmsdata, claim.runId);
}

/** Whether somebody drives the run now, in words. */
function whereRunIs(peek: Extract<PeekedRun, { found: true }>): string {
  const driver = driverOf(peek.lease);
  if (driver.kind === 'live') return `being driven by pid ${driver.lease.pid} on ${driver.lease.host}`;
  if (peek.phase === 'done') return 'the KMS runs, its clean-up was cut off';
  if (peek.phase === 'failed') return 'stopped after a failed step';
  return driver.kind === 'silent' ? `its driver ${livenessWords(driver.lease, { liveness: 'unresponsive', silentMs: driver.silentMs, seen: driver.seen })}` : 'interrupted: nobody drives it';
}

function whatToType(peek: Extract<PeekedRun, { found: true }>, runId: string, dbFlag: string): string {
  const driver = driverOf(peek.lease);
  if (driver.kind === 'live') return `wait for it, or look at it with kms-recover status ${runId}${dbFlag}`;
  if (driver.kind === 'silent') return `if its driver stays unresponsive, take the run over with kms-recover takeover ${runId}${dbFlag}, or end it with kms-recover abandon ${runId}${dbFlag}`;
  return `continue it with kms-recover resume ${runId}${dbFlag}, or end it with kms-recover abandon ${runId}${dbFlag}`;
}


function quote(value: string): string {
  return /^[\w:\\/.+-]+$/.test(value) ? value : `"${value}"`;
}

/**
 * Before a run is created: refused when the server is claimed (by any database, or none left) or
 * this database already holds an open run of it. Reads only.
 */
export async function assertServerFree(host: Host, kmsdata: string, serverKey: string, here: { store: RunQueries | null; dbPath: string }): Promise<void> {
  const existing = await host.readServerClaim(kmsdata);
  if (existing && !(await releaseIfStillborn(host, kmsdata, existing.holder, here))) throw claimedBy(existing.holder, existing.path, here);
  const open = here.store?.openRunOfServer(serverKey);
  if (open) {
    throw new KmsRecoverError('SERVER_CLAIMED',
      `this database already holds an open run of this server: run ${open.id} (${open.state}, ${open.phase}); continue it with kms-recover resume ${open.id}, or end it with kms-recover abandon ${open.id}`,
      { runId: open.id, state: open.state, db: here.dbPath });
  }
}
