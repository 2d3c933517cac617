import { setTimeout as sleep } from 'node:timers/promises';
import { KmsRecoverError } from '../errors/index.js';
import type { FolderIdentity, Host, KmsObservation, ProgressCallback } from '../host/types.js';
import type { RunOptions } from './step-policy.js';
import { exactSeconds } from '../present/time-words.js';

/**
 * KB step 7 is done when the KMS keeps running, not when StartService returns: the start step
 * ends with a settle window in which the service must stay RUNNING, hold the restored
 * `kmsdata.edb` open and log no error. Only then is `running` checkpointed (and the reinstall's
 * files deleted). A KMS that dies in the window is not running.
 */

export const DEFAULT_SETTLE_SECONDS = 15;
export const SETTLE_LIMITS = { min: 0, max: 600 } as const;
/** How often the window looks at the KMS. */
const SETTLE_POLL_MS = 500;

/** The run's settle window in seconds (the default for a run made before the window existed). */
export function settleSecondsOf(options: RunOptions): number {
  const s = options.settleSeconds;
  return s !== undefined && Number.isFinite(s) && s >= SETTLE_LIMITS.min && s <= SETTLE_LIMITS.max ? s : DEFAULT_SETTLE_SECONDS;
}

/** `--settle <seconds>`: 0 to 600, in whole milliseconds at most; anything else is a usage error, never rounded. */
export function parseSettleSeconds(value: string): number {
  const seconds = /^\d+(?:\.\d+)?$/.test(value) ? Number(value) : Number.NaN;
  if (!(seconds >= SETTLE_LIMITS.min && seconds <= SETTLE_LIMITS.max) || !Number.isInteger(Math.round(seconds * 1e6) / 1e3)) {
    throw new KmsRecoverError('USAGE', `--settle needs seconds from ${SETTLE_LIMITS.min} to ${SETTLE_LIMITS.max}, in whole milliseconds at most, not "${value}"`);
  }
  return seconds;
}

/** What the window proved, recorded with `running`. */
export interface SettleProof {
  /** How long the KMS was watched running. */
  seconds: number;
  /** The service's process id, the same at the start and the end of the window (null where the host tells none). */
  pid: number | null;
  /** The identity of the kmsdata.edb it held at the end. */
  heldDatabase: FolderIdentity;
  /** It equals the one recorded after the restore (false: the restore recorded none, for a run from before). */
  restoredFile: boolean;
  /** The database identity the KMS reports it opened, equal to the backup's (the simulator: kmsId). */
  databaseId?: string;
}

export interface SettleRequest {
  host: Host;
  serviceName: string;
  kmsdata: string;
  /** When the service was asked to start: its errors are read from then on. */
  since: Date;
  seconds: number;
  /** The identity of kmsdata.edb recorded after the restore (null: unknown, a run from before). */
  restoredDatabase: FolderIdentity | null;
  /** The database identity the backup holds, as the KMS reports it (null where the host cannot tell). */
  backupDatabaseId: string | null;
  /** Cut out of every text the KMS logged before it reaches a message. */
  alpha: string | null;
  signal: AbortSignal;
  /** The countdown: seconds watched (filesDone) of the window (filesTotal). */
  onProgress?: ProgressCallback;
  pollMs?: number;
}


function sameIdentity(a: FolderIdentity, b: FolderIdentity): boolean {
  return a.dev === b.dev && a.ino === b.ino;
}

function redact(text: string, alpha: string | null): string {
  return alpha ? text.split(alpha).join('[alpha string]') : text;
}

/** Service specific error 1 (WIN32_EXIT_CODE 1066, SERVICE_EXIT_CODE 1): KB Q151689's wrong alpha string or wrong service account. */
function isServiceSpecificError1(o: KmsObservation): boolean {
  return o.exit?.win32ExitCode === 1066 && o.exit.serviceExitCode === 1;
}

function exitWords(o: KmsObservation): string {
  if (!o.exit) return 'no exit code recorded';
  const { win32ExitCode: w, serviceExitCode: s } = o.exit;
  return w === 1066 ? `service specific error ${s} (WIN32_EXIT_CODE 1066, SERVICE_EXIT_CODE ${s})` : `WIN32_EXIT_CODE ${w}, SERVICE_EXIT_CODE ${s}`;
}

/** Why the KMS is not running as it must be, or null while it is. */
function trouble(o: KmsObservation, pid: number | null, service: string): string | null {
  if (o.status.state !== 'running') return `${service} is ${o.status.state}: it stopped with ${exitWords(o)}`;
  if (pid !== null && o.status.pid !== undefined && o.status.pid !== pid) return `${service} was restarted meanwhile (process ${pid}, now ${o.status.pid})`;
  if (o.heldDatabase === null) return `${service} runs but does not hold its database kmsdata.edb open`;
  if (o.errors.length > 0) return `${service} logged ${o.errors.length === 1 ? 'an error' : `${o.errors.length} errors`}`;
  return null;
}

function failure(request: SettleRequest, o: KmsObservation, why: string, watchedMs: number): KmsRecoverError {
  const errors = o.errors.slice(0, 5).map((e) => redact(e, request.alpha).slice(0, 300));
  const logged = errors.length ? `; it logged: ${errors.map((e) => `"${e}"`).join('; ')}` : '';
  const detail = {
    service: request.serviceName, when: 'settle', watchedMs, settleSeconds: request.seconds, state: o.status.state,
    ...(o.exit ? { win32ExitCode: o.exit.win32ExitCode, serviceExitCode: o.exit.serviceExitCode } : {}), errors,
  };
  const within = `within the settle window (after ${exactSeconds(watchedMs, 1)} of ${exactSeconds(request.seconds * 1000, 1)})`;
  if (o.status.state === 'stopped' && isServiceSpecificError1(o)) {
    return new KmsRecoverError('ALPHA_REJECTED',
      `${request.serviceName} reported RUNNING, then stopped ${within} with ${exitWords(o)}${logged}. KB Q151689 gives two causes: `
      + 'the alpha string is wrong or missing (it must be the ORIGINAL server\'s, from its startup disk), '
      + 'or the service\'s Log On account is wrong; check both, then run kms-recover resume (the reinstall\'s files are kept until the KMS runs)',
      detail);
  }
  return new KmsRecoverError('KMS_FAILED_AFTER_START', `${why} ${within}${logged}: it is not running as recovered`, detail);
}

/** How long a KMS that logged an error or let go of its database is given to stop, so its exit codes say why. */
const STOPPING_GRACE_MS = 3000;

/**
 * A failing service logs its error, then stops: seen in between, it still runs. It is looked at
 * again for a moment, so that a KMS stopping with service specific error 1 is reported as such
 * (the errors it logged are kept). Still running then: what was seen stands.
 */
async function whenItStops(request: SettleRequest, seen: KmsObservation, pid: number | null): Promise<KmsObservation> {
  if (seen.status.state !== 'running' || (pid !== null && seen.status.pid !== undefined && seen.status.pid !== pid)) return seen;
  const until = Date.now() + STOPPING_GRACE_MS;
  while (Date.now() < until && !request.signal.aborted) {
    await sleep(Math.min(request.pollMs ?? SETTLE_POLL_MS, 250));
    const now = await request.host.observeKms(request.serviceName, request.kmsdata, request.since);
    if (now.status.state !== 'running') return { ...now, errors: now.errors.length ? now.errors : seen.errors };
  }
  return seen;
}

/**
 * Watches the started KMS for the window, then proves what it can: the same process throughout,
 * holding the restored kmsdata.edb (its file identity), and, where the KMS tells it, the
 * database identity of the backup. Throws ALPHA_REJECTED or KMS_FAILED_AFTER_START otherwise.
 */
export async function settleWindow(request: SettleRequest): Promise<SettleProof> {
  const { host, serviceName, kmsdata, since } = request;
  const windowMs = request.seconds * 1000;
  const began = Date.now();
  const total = Math.ceil(request.seconds);
  let first: KmsObservation | null = null;
  let pid: number | null = null;
  let last: KmsObservation;
  for (;;) {
    request.signal.throwIfAborted();
    last = await host.observeKms(serviceName, kmsdata, since);
    const watchedMs = Date.now() - began;
    first ??= last;
    pid ??= first.status.pid ?? null;
    const why = trouble(last, pid, serviceName);
    if (why) throw failure(request, await whenItStops(request, last, pid), why, watchedMs);
    request.onProgress?.({ filesDone: Math.min(total, Math.floor(watchedMs / 1000)), filesTotal: total, bytesDone: 0, bytesTotal: 0 });
    // Where a test holds the window to look at its countdown (test/helpers/hold.ts), once.
    // Loaded here, not at the top: `status` imports this file for settleSecondsOf (cold start).
    await (await import('../host/fail-point.js')).stallPoint('settle-watching');
    if (watchedMs >= windowMs) break;
    // Cut short by the signal (the step's time limit, Ctrl-C, a lost lease): its reason is the error.
    await sleep(Math.min(request.pollMs ?? SETTLE_POLL_MS, windowMs - watchedMs), undefined, { signal: request.signal })
      .catch((error: unknown) => {
        request.signal.throwIfAborted();
        throw error;
      });
  }
  const watchedMs = Date.now() - began;
  const held = last.heldDatabase!;
  if (request.restoredDatabase && !sameIdentity(held, request.restoredDatabase)) {
    throw failure(request, last, `${serviceName} holds a kmsdata.edb that is not the restored file (file identity ${held.dev}:${held.ino}, the restore left ${request.restoredDatabase.dev}:${request.restoredDatabase.ino})`, watchedMs);
  }
  if (request.backupDatabaseId !== null && last.reportedDatabaseId !== undefined && last.reportedDatabaseId !== request.backupDatabaseId) {
    throw failure(request, last, `${serviceName} opened the database of KMS ${last.reportedDatabaseId}, not the backup's (KMS ${request.backupDatabaseId})`, watchedMs);
  }
  request.onProgress?.({ filesDone: total, filesTotal: total, bytesDone: 0, bytesTotal: 0 });
  return {
    seconds: request.seconds,
    pid,
    heldDatabase: held,
    restoredFile: request.restoredDatabase !== null,
    ...(request.backupDatabaseId !== null && last.reportedDatabaseId === request.backupDatabaseId ? { databaseId: last.reportedDatabaseId } : {}),
  };
}

