import { fromPromise } from 'xstate';
import type { Logger } from 'pino';
import { KmsRecoverError } from '../errors/index.js';
import { failPoint, injectedFault } from '../host/fail-point.js';
import { asFileIoError } from '../host/fs/file-errors.js';
import type { ChangeGuard, FolderIdentity, Host, Manifest, ProgressCallback } from '../host/types.js';
import { KB_STEPS, stateAfter, stateOfStep, type StepInputs, type StepName, type StepOutputs } from '../machines/index.js';
import type { FencedRun, RunQueries } from '../persistence/index.js';
import type { AlphaString } from './alpha-string.js';
import type { ProgressSink } from './progress.js';
import { policyFor, type RunOptions } from './step-policy.js';
import { boundedRate, type WorkActivity } from './work-progress.js';
import { manualActionAt } from './manual-action.js';
import { kbLabel } from '../machines/recovery.kb-steps.js';
import { settleSecondsOf, settleWindow } from './settle-window.js';
import { exactSeconds } from '../present/time-words.js';

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
  /** Null when the run was resumed without an alpha string; the credential steps then fail clearly. */
  alpha: AlphaString | null;
  progress: ProgressSink;
  logger: Logger;
  options: RunOptions;
}

/** Makes the progress callback of one kind of work of the attempt at hand. */
type Track = (activity: WorkActivity) => ProgressCallback;

/** What a step does in one attempt, given its input, the attempt's guard and its progress. */
type Effect<K extends StepName> = (input: StepInputs[K], guard: ChangeGuard, track: Track) => Promise<StepOutputs[K]>;

/** How long a timed-out attempt may take to stop at its next file or poll before the process ends. */
const STOP_GRACE_MS = 10_000;

/**
 * One attempt may take at most `timeoutMs`. On expiry the attempt's signal aborts, so a copy,
 * hash or wait stops at its next file or poll, and the attempt fails with STEP_TIMEOUT (retried
 * by the step's policy). Work that does not stop within STOP_GRACE_MS is an OS call that cannot
 * be cancelled: STEP_TIMEOUT then says `stuck`, and the CLI ends the process after the checkpoint.
 */
async function withTimeout<T>(work: (signal: AbortSignal) => Promise<T>, remainingMs: number, timeoutMs: number, step: string, outer: AbortSignal): Promise<T> {
  const expiry = new AbortController();
  const expire = () => expiry.abort(new KmsRecoverError('STEP_TIMEOUT',
    `step ${step} did not finish within ${exactSeconds(timeoutMs)}; see the log, then run kms-recover resume`, { step, timeoutMs }));
  if (remainingMs <= 0) expire();
  const timer = setTimeout(expire, Math.max(0, remainingMs));
  const signal = AbortSignal.any([outer, expiry.signal]);
  const running = work(signal);
  // Once aborted, the work has STOP_GRACE_MS to stop at its next file or poll; then it is stuck.
  const stopped = new Promise<never>((_, reject) => {
    signal.addEventListener('abort', () => {
      const reason: unknown = signal.reason;
      const grace = setTimeout(() => reject(reason instanceof KmsRecoverError
        ? new KmsRecoverError(reason.code, `${reason.message} (the work could not be stopped: this process ends; the run stays resumable)`, { ...reason.detail, stuck: true })
        : reason), STOP_GRACE_MS);
      running.catch(() => undefined).finally(() => { clearTimeout(grace); reject(reason); });
    }, { once: true });
  });
  try {
    return await Promise.race([running, stopped]);
  } finally {
    clearTimeout(timer);
  }
}

/** `1 difference: a.edb (missing)` or `3 differences, e.g. a.edb (missing)`. */
function differencesWords(differences: readonly string[]): string {
  return differences.length === 1 ? `1 difference: ${differences[0]}` : `${differences.length} differences, e.g. ${differences[0]}`;
}

/**
 * The real effects behind the machine's named actors. Each step:
 * 1. waits one microtask, so the checkpoint of entering its state is committed first (XState
 *    starts invoked actors before it notifies observers of the new snapshot);
 * 2. records write-ahead intent (`step.started`, attempt n), which also proves that checkpoint;
 * 3. re-checks the host before acting, so running it again after a crash is safe.
 */
export function stepActors(env: StepEnvironment) {
  let manifest: Manifest | undefined;
  const backupManifest = () => (manifest ??= env.store.manifest(env.runId));

  const manualSteps = new Set(env.options.manual ?? []);

  /**
   * The progress of one attempt's long work (copy, verify, clear), written through the fenced
   * handle at a bounded rate, so `status` and `watch` in another console see it; the terminal of
   * this process is told at the same rate.
   */
  function tracker(name: StepName, attempt: number, signal: AbortSignal): Track {
    return (activity) => {
      const began = Date.now();
      return boundedRate((progress) => {
        env.fenced.progress({ step: name, attempt, activity, ...progress });
        env.progress.working(name, activity, progress, Date.now() - began);
      }, { signal });
    };
  }

  /**
   * The step `name`: the tool's `effect`, or, when the operator does the step (`--manual`),
   * `verifyManual` once the operator has confirmed it.
   */
  function step<K extends StepName>(name: K, effect: Effect<K>, verifyManual: Effect<K>) {
    const state = stateOfStep(name);
    return fromPromise<StepOutputs[K], StepInputs[K]>(async ({ input, signal: actorSignal }) => {
      await Promise.resolve();
      const policy = policyFor(env.options, name);
      // The start's time limit is for the start itself: its settle window comes on top.
      const timeoutMs = policy.timeoutMs + (name === 'startService' ? settleSecondsOf(env.options) * 1000 : 0);
      // The operator's step after a CONFIRM is a verification: it spends no attempt of the step.
      const byOperator = manualSteps.has(name);
      const attempt = env.fenced.beginStep(state, name, timeoutMs, { verifying: byOperator });
      // The attempt's deadline counts from its recorded start (status shows the same time).
      const deadline = Date.now() + timeoutMs;
      env.logger.info({ runId: env.runId, state, step: name, attempt }, 'step started');
      env.progress.stepStarted(state, name, attempt);
      failPoint(`before-step:${name}`);
      injectedFault(name, attempt);
      const outer = AbortSignal.any([actorSignal, env.lost]);
      const output = await withTimeout((signal) => {
        signal.throwIfAborted();
        // Before every change: still this run's driver (its lease), and still this run's server (its claim).
        const change = `${name} (${kbLabel(KB_STEPS[stateAfter(state)].kbSteps)})`;
        const guard: ChangeGuard = { signal, assertMayAct: () => { env.fenced.assertCurrent(); env.assertClaim(change); } };
        const track = tracker(name, attempt, signal);
        return (byOperator ? verifyManual : effect)(input, guard, track);
      }, deadline - Date.now(), timeoutMs, name, outer).catch((error: unknown) => {
        // A disk error no file operation named on its way up is still the disk's, not a bug.
        throw asFileIoError(error);
      });
      env.fenced.assertCurrent();
      failPoint(`after-step:${name}`);
      return output;
    });
  }

  /**
   * A manual step the operator confirmed (the machine's CONFIRM) but that is not done on the
   * server: the machine goes back to waiting for the operator; the words say what was found.
   */
  function unverified(name: StepName, what: string): KmsRecoverError {
    const action = manualActionAt(name, [...manualSteps]);
    return new KmsRecoverError('MANUAL_STEP_UNVERIFIED', `${what}: the step is not done yet`, { step: name, confirm: action.confirm });
  }

  /**
   * Before the operator gives the alpha string or starts the service, Kmsdata is checked as for
   * the tool's own steps (not once the operator has started the KMS on it: it is in use).
   */
  async function assertRestoredBeforeOperator(name: StepName, input: { serviceName: string; kmsdata: string }, guard: ChangeGuard, track: Track): Promise<void> {
    if ((await env.host.queryService(input.serviceName)).state !== 'running') await assertStillRestored(input.kmsdata, name, guard, track);
  }

  /**
   * The service must be stopped for every step between `stopped` and `credential-set`. After a
   * reboot it may run again although the checkpoint says otherwise: stop it, and say so.
   */
  async function ensureStopped(serviceName: string, step: StepName, guard: ChangeGuard): Promise<boolean> {
    const status = await env.host.queryService(serviceName);
    if (status.state === 'stopped') return false;
    if (status.state === 'missing') {
      throw new KmsRecoverError('SERVICE_MISSING', `service ${serviceName} is no longer installed`, { service: serviceName });
    }
    env.fenced.note('drift.service-running', { step, service: serviceName, serviceState: status.state });
    env.logger.warn({ runId: env.runId, step, serviceState: status.state }, 'service found running although the run had stopped it');
    env.progress.note(`${serviceName} was ${status.state} again (a reboot?): stopping it before ${step}`);
    guard.assertMayAct?.();
    const after = await env.host.stopService(serviceName, guard);
    if (after.state !== 'stopped') {
      throw new KmsRecoverError('SERVICE_STOP_FAILED', `${serviceName} is ${after.state} and could not be stopped again`, { service: serviceName });
    }
    return true;
  }

  /**
   * Facts in the checkpoint say what happened, not what is true now: before the alpha string is
   * given and before the service starts, Kmsdata must equal the backup's manifest (sizes and
   * SHA-256), on every attempt and resume. A difference is drift: recorded, and the machine sends
   * the run back to clear and restore again.
   */
  async function assertStillRestored(kmsdata: string, step: StepName, guard: ChangeGuard, track: Track): Promise<void> {
    const check = await env.host.verifyKmsdata(kmsdata, backupManifest(), { ...guard, onProgress: track('verify') });
    if (check.matches) return;
    const differences = check.differences.slice(0, 20);
    env.fenced.note('drift.kmsdata', { step, differences, count: check.differences.length });
    env.logger.warn({ runId: env.runId, step, differences: check.differences.length }, 'Kmsdata differs from the backup after the restore');
    env.progress.note(`${kmsdata} differs from the backup (${differencesWords(check.differences)}): clearing and restoring it again`);
    throw new KmsRecoverError('KMSDATA_DRIFT',
      `Kmsdata no longer matches the backup it was restored from (${differencesWords(check.differences)}): something changed it after the restore; the run clears and restores it again, and stops if it keeps changing`,
      { step, differences });
  }

  function assertManifestStored(manifest: Manifest): void {
    if (manifest.fileCount === 0 || !/^[0-9a-f]{64}$/.test(manifest.digest)) {
      throw new KmsRecoverError('BACKUP_INVALID', `run ${env.runId} has no verified backup manifest: refusing to clear Kmsdata`, { runId: env.runId });
    }
  }

  /** When this run last asked the service to start (its errors count from then); now if it never did. */
  function startRequestedAt(): Date {
    const at = env.store.startRequestedAt(env.runId);
    return at === null ? new Date() : new Date(at);
  }

  /**
   * The settle window: the KMS must keep running, on the restored database, without an error,
   * for the run's window; what it proved is the start step's facts.
   */
  async function settled(input: StepInputs['startService'], since: Date, alpha: string | null, guard: ChangeGuard, track: Track): Promise<StepOutputs['startService']> {
    const seconds = settleSecondsOf(env.options);
    env.progress.note(`${input.serviceName} reports running: watching it for ${seconds} s (settle window) before the run is running`);
    const proof = await settleWindow({
      host: env.host, serviceName: input.serviceName, kmsdata: input.kmsdata, since, seconds,
      restoredDatabase: input.restoredDatabase ?? null,
      backupDatabaseId: input.backup ? await env.host.databaseIdOf(input.backup) : null,
      alpha, signal: guard.signal ?? new AbortController().signal, onProgress: track('settle'),
    });
    env.logger.info({ runId: env.runId, settle: proof }, 'settle window passed');
    return { serviceState: 'running', settle: { ...proof } };
  }

  function requireAlpha(): AlphaString {
    if (!env.alpha) {
      throw new KmsRecoverError('CREDENTIAL_MISSING',
        'no alpha string: insert the startup disk (--startup-disk <Kmspwd.ini>) or set KMS_ALPHA_STRING, then run kms-recover resume');
    }
    return env.alpha;
  }

  return {
    stopService: step('stopService', async ({ serviceName }, guard) => {
      guard.assertMayAct?.();
      await env.host.stopService(serviceName, guard);
      const status = await env.host.queryService(serviceName);
      return { serviceState: status.state };
    }, async ({ serviceName }) => {
      const status = await env.host.queryService(serviceName);
      if (status.state !== 'stopped') throw unverified('stopService', `${serviceName} is still ${status.state}`);
      return { serviceState: status.state };
    }),

    clearKmsdata: step('clearKmsdata', async ({ serviceName, kmsdata, backup, kmsdataIdentity }, guard, track) => {
      // The only destructive step: only with this run's backup manifest in hand, the backup
      // still holding every file it listed, and the service stopped now.
      assertManifestStored(backupManifest());
      const check = await env.host.checkBackupAgainstManifest(backup, backupManifest());
      if (!check.matches) {
        throw new KmsRecoverError('BACKUP_CHANGED',
          `backup ${backup} changed since it was checked (${differencesWords(check.differences)}): Kmsdata was not touched`,
          { backup, differences: check.differences.slice(0, 20) });
      }
      await ensureStopped(serviceName, 'clearKmsdata', guard);
      const report = await env.host.clearKmsdata(kmsdata, env.runId, {
        ...guard, expected: kmsdataIdentity, record: (entries) => env.fenced.recordQuarantined(entries), onProgress: track('clear'),
      });
      return { removed: report.removed, remaining: report.remaining, quarantine: report.quarantine };
    }, async ({ kmsdata }) => {
      const left = await env.host.kmsdataEntries(kmsdata);
      if (left > 0) throw unverified('clearKmsdata', `${left} entries are still in ${kmsdata}`);
      return { removed: 0, remaining: 0 };
    }),

    restoreKmsdata: step('restoreKmsdata', async ({ serviceName, kmsdata, backup, kmsdataIdentity }, guard, track) => {
      await ensureStopped(serviceName, 'restoreKmsdata', guard);
      // Kmsdata is the pinned folder, or the staging copy an interrupted restore had renamed into place.
      const promoting = env.store.promotingIdentity(env.runId);
      const expected = [kmsdataIdentity, promoting].filter((id): id is FolderIdentity => id != null);
      const report = await env.host.restoreKmsdata(backup, kmsdata, backupManifest(), env.runId, {
        ...guard, expected,
        beforePromote: (identity) => { env.fenced.recordPromoting(identity); },
        onProgress: track('copy'),
      });
      // The file the KMS must hold once it runs: the settle window proves it is this one.
      return { ...report, database: await env.host.databaseIdentity(kmsdata) };
    }, async ({ kmsdata }, guard, track) => {
      const manifest = backupManifest();
      const check = await env.host.verifyKmsdata(kmsdata, manifest, { ...guard, onProgress: track('verify') });
      if (!check.matches) throw unverified('restoreKmsdata', `${kmsdata} does not match the backup (${differencesWords(check.differences)})`);
      return { fileCount: manifest.fileCount, totalBytes: manifest.totalBytes, digest: manifest.digest, mismatches: [], alreadyRestored: true, database: await env.host.databaseIdentity(kmsdata) };
    }),

    setCredential: step('setCredential', async ({ serviceName, kmsdata }, guard, track) => {
      await ensureStopped(serviceName, 'setCredential', guard);
      await assertStillRestored(kmsdata, 'setCredential', guard, track);
      const alpha = requireAlpha();
      guard.assertMayAct?.();
      return { source: alpha.source, length: alpha.length };
    }, async (input, guard, track) => {
      await assertRestoredBeforeOperator('setCredential', input, guard, track);
      // Typed by the operator into the service's start parameters: nothing here can read it back.
      return { source: 'operator', length: null };
    }),

    startService: step('startService', async (input, guard, track) => {
      const { serviceName, kmsdata } = input;
      const alpha = requireAlpha();
      let since = startRequestedAt();
      if ((await env.host.queryService(serviceName)).state !== 'running') {
        await assertStillRestored(kmsdata, 'startService', guard, track);
        guard.assertMayAct?.();
        since = new Date();
        env.fenced.recordStartRequested(serviceName, since.toISOString());
        await env.host.startService(serviceName, [alpha.reveal()], guard);
      }
      // A start cut off by a crash or a reboot comes back here: the window is watched again, in full.
      return settled(input, since, alpha.reveal(), guard, track);
    }, async (input, guard, track) => {
      await assertRestoredBeforeOperator('startService', input, guard, track);
      const status = await env.host.queryService(input.serviceName);
      if (status.state !== 'running') throw unverified('startService', `${input.serviceName} is ${status.state}, not running`);
      return settled(input, startRequestedAt(), null, guard, track);
    }),
  };
}
