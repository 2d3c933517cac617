import type { RunEventName } from '../persistence/run-events.js';
import { durationWords, exactSeconds } from './time-words.js';
import { settleProofWords } from './settle-words.js';
import { countWords } from './count-words.js';
import { codeWords } from '../errors/index.js';
import { isStepName, stateOfStep } from '../machines/recovery.order.js';
import { failedAtState, failureWords } from './failure-words.js';

/**
 * Every event of the log in an administrator's words: one table, read by `history` (text) and
 * `watch`; `history --json` keeps the raw event type. Step events (`xstate.done.actor.<step>`,
 * `xstate.error.actor.<step>`) are looked up as `step.done` / `step.error` with their step.
 */
type Detail = Record<string, unknown>;
/** `to`: the state the event left the run in (a failed step's error names the step the run rests at). */
type Words = (detail: Detail, step: string | null, to: string | null) => string;

const STEP_WORDS: Record<string, { name: string; done: (facts: Detail) => string }> = {
  stopService: { name: 'service stop', done: (f) => `finished: the service is ${text(f.serviceState, 'stopped')}` },
  clearKmsdata: {
    name: 'clear',
    done: (f) => f.removed === 0 && f.remaining === 0 ? 'finished: Kmsdata is empty (nothing to keep aside)'
      : `finished: ${count(f.removed, 'top-level entry', 'top-level entries')} moved into the quarantine, ${num(f.remaining)} left`,
  },
  restoreKmsdata: { name: 'restore', done: (f) => f.alreadyRestored ? `finished: Kmsdata already matched the backup (${count(f.fileCount, 'file')})` : `finished: ${count(f.fileCount, 'file')}, verified` },
  setCredential: { name: 'alpha string', done: (f) => `given as start parameter, from ${sourceWords(f.source)}` },
  startService: { name: 'service start', done: (f) => `finished: ${settleProofWords('the service', f.settle) ?? `the service is ${text(f.serviceState, 'running')}`}` },
};

/** Every event type of the log (persistence/run-events.ts), a step's done and error events as one key each. */
type WordedEvent = Exclude<RunEventName, `xstate.${string}`> | 'step.done' | 'step.error';

export const EVENT_WORDS: Record<WordedEvent, Words> = {
  'run.created': (d) => `run created: the backup holds ${count(d.backupFiles, 'file')}${typeof d.computerName === 'string' ? `; on computer ${d.computerName}${typeof d.originalName === 'string' ? ' (checked against --original-name)' : ''}` : ''}`,
  'service.start-requested': (d) => `${text(d.service, 'the service')} asked to start (its errors are read from now on)`,
  'step.started': (d, step) => `${stepName(step)} started (attempt ${num(d.attempt)})`,
  'step.done': (d, step) => `${stepName(step)} ${step && STEP_WORDS[step] ? STEP_WORDS[step].done(obj(d.facts)) : 'finished'}`,
  'step.error': (d, step, to) => obj(d.error).code === 'MANUAL_STEP_PENDING'
    ? `${stepName(step)} waits for you: a manual step (kms-recover status says what to do)`
    : obj(d.error).code === 'MANUAL_STEP_UNVERIFIED'
      ? `${stepName(step)} checked after your confirm: ${text(obj(d.error).message, 'not done yet')}; waiting for you again (no attempt used)`
      : d.phase === 'failed' || d.phase === undefined ? errorWords(d.error, step, to)
        // The machine went on by itself (a drift: the clear and the restore are redone): no step rests failed.
        : `${stepName(step)} found that ${codeWords(text(obj(d.error).code, 'INTERNAL'))}: ${text(obj(d.error).message, '')}`,
  CONFIRM: (d) => {
    const confirmed = obj(d.confirmed);
    const covers = Array.isArray(confirmed.covers) ? confirmed.covers.filter((s): s is string => typeof s === 'string' && s !== confirmed.step) : [];
    return `you confirmed ${stepName(str(confirmed.step))} was done by hand${covers.length ? ` (it covers ${covers.map((s) => stepName(s)).join(' and ')} too)` : ''}: checking it on the server`;
  },
  'manual.verifying': (_d, step) => `${stepName(step)}: checking on the server what you did (no attempt used)`,
  RETRY: () => 'the failed step is tried again',
  'retry.scheduled': (d) => `retry of ${stepName(str(d.step))} (attempt ${num(d.attempt)}) scheduled in ${seconds(d.delayMs)}, after ${typeof d.after === 'string' ? codeWords(d.after) : 'an error'}`,
  'drift.service-running': (d) => `${text(d.service, 'the service')} found ${text(d.serviceState, 'running')} before ${stepName(str(d.step))} (a reboot?): stopped again`,
  'kmsdata.checked': (d) => `Kmsdata checked before ${stepName(str(d.step))}: ${d.by === 'identity'
    ? `${count(d.files, 'file')}, each the one the restore wrote, unchanged since (same device, inode, size and times)`
    : `${count(d.files, 'file')} read again, sizes and SHA-256 equal to the backup`}`,
  'drift.kmsdata': (d) => `Kmsdata differs from the backup before ${stepName(str(d.step))} (${count(d.count, 'difference')}): cleared and restored again`,
  'lease.taken-over': (d) => `took the run over from pid ${num(d.fromPid)} on ${text(d.fromHost, '?')}, ${takenFromWords(d)}`,
  'claim.taken': () => 'claimed the server (its claim file beside Kmsdata)',
  'claim.renewed': () => 'claimed the server again (its claim file beside Kmsdata)',
  'claim.lost': (d) => d.found === 'other' ? `stopped without touching the server: it is claimed by run ${text(d.claimRunId, '?')} now`
    : d.recoveredBy ? `stopped without touching the server: run ${text(d.recoveredBy, '?')} recovered it meanwhile`
      : `stopped without touching the server: its claim was ${d.found === 'missing' ? 'gone' : 'unreadable'}`,
  'recovery.recorded': () => 'left the record of this recovery beside Kmsdata (kms-recover.recovered)',
  'claim.released': () => 'released the server\'s claim',
  'quarantine.removed': (d) => `deleted the reinstall's files kept aside (${count(d.removed, 'entry', 'entries')})`,
  'quarantine.kept': (d) => `kept ${count(Array.isArray(d.kept) ? d.kept.length : d.kept, 'entry', 'entries')} of the quarantine: not as the clear recorded them`,
  'restore.promoting': () => 'restore: the checked copy is being renamed into place',
  'policy.changed': (d) => policyChangeWords(d),
  'manual.confirmed': (d) => `you confirmed ${stepName(str(d.step))} was done by hand${d.by ? ` (the confirm of ${stepName(str(d.by))} covers it)` : ''}`,
  REWIND: (d) => `went back from ${text(d.from, '?')} to ${text(d.to, '?')} to redo the steps from there`,
  'definition.migrated': (d) => `run upgraded from definition v${num(d.fromVersion)} to v${num(d.toVersion)}`,
  'run.abandoned': (d) => `run abandoned${d.reason ? `: ${text(d.reason, '')}` : ''}`,
  'run.finished': () => 'run finished: the original Key Management Server runs',
};

/** An event in words; an event this table does not know is shown by its type. */
export function eventWords(e: { event: string; detail: Record<string, unknown> | null; to?: string }): string {
  const match = /^xstate\.(done|error)\.actor\.(.+)$/.exec(e.event);
  const key = match ? `step.${match[1]}` : e.event;
  const step = match ? match[2]! : str(e.detail?.step);
  const words = isWorded(key) ? EVENT_WORDS[key] : undefined;
  return words ? words(e.detail ?? {}, step, e.to ?? null) : e.event;
}

/** How the holder a run was taken from stood, by the liveness rule (an event from before it: by who confirmed it). */
export function takenOverLiveness(d: Detail): 'dead' | 'unresponsive' {
  if (d.liveness === 'dead' || d.liveness === 'unresponsive') return d.liveness;
  return d.confirmed === '--yes' || d.confirmed === 'on the terminal' ? 'unresponsive' : 'dead';
}

/** `which had died`, or `which was unresponsive for 75 s (...)`. */
export function takenFromWords(d: Detail): string {
  if (takenOverLiveness(d) === 'dead') return 'which had died';
  const silent = typeof d.silentMs === 'number' ? ` for ${durationWords(d.silentMs)}` : '';
  return `which was unresponsive${silent} (no heartbeat; taken over with your confirmation${d.confirmed === '--yes' ? ', --yes' : ''})`;
}

/** What `resume --timeout/--attempts/--backoff/--settle` set, read from the event's policies before and after. */
const POLICY_FIELDS = [
  ['timeoutMs', 'time limit', (v: number) => exactSeconds(v)],
  ['attempts', 'attempts', (v: number) => String(v)],
  ['backoffMs', 'first wait before a retry', (v: number) => exactSeconds(v)],
] as const;

function policyChangeWords(d: Detail): string {
  const before = obj(d.before);
  const after = obj(d.after);
  const set: string[] = [];
  for (const [step, policy] of Object.entries(after)) {
    for (const [field, name, value] of POLICY_FIELDS) {
      const now = obj(policy)[field];
      if (typeof now === 'number' && now !== obj(before[step])[field]) set.push(`${name} of ${step} set to ${value(now)}`);
    }
  }
  if (typeof d.settleAfter === 'number') set.push(`settle window set to ${exactSeconds(d.settleAfter * 1000)}`);
  // An event whose values were already the run's: the change set nothing new.
  return set.length ? set.join('; ') : 'time limits and attempts set again, to the values they had';
}

function stepName(step: string | null): string {
  return step ? STEP_WORDS[step]?.name ?? step : 'a step';
}

function sourceWords(source: unknown): string {
  return { 'startup-disk': 'the startup disk', environment: 'KMS_ALPHA_STRING', prompt: 'the prompt', operator: 'you, typed into the service' }[String(source)] ?? 'an unknown source';
}

/**
 * A failed step's error as every screen says it (present/failure-words.ts): the step the run rests
 * at (from the state the event left it in), the code's words with the code, then its message.
 */
function errorWords(error: unknown, step: string | null, to: string | null): string {
  const e = obj(error);
  const code = text(e.code, 'INTERNAL');
  const own = step && isStepName(step) ? failedAtState(stateOfStep(step)) : null;
  const at = (to ? failedAtState(to) : null) ?? own;
  return `${failureWords(at, { code, ...(step ? { step } : {}) })}: ${text(e.message, '')}`;
}

function obj(value: unknown): Detail {
  return value && typeof value === 'object' ? value as Detail : {};
}

function str(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

function text(value: unknown, fallback: string): string {
  return typeof value === 'string' ? value : fallback;
}

function num(value: unknown): string {
  return typeof value === 'number' ? String(value) : '?';
}

function count(value: unknown, one: string, many = `${one}s`): string {
  return typeof value === 'number' ? countWords(value, one, many) : `? ${many}`;
}

function seconds(ms: unknown): string {
  return typeof ms === 'number' ? durationWords(ms) : 'a while';
}

function isWorded(key: string): key is WordedEvent {
  return Object.hasOwn(EVENT_WORDS, key);
}
