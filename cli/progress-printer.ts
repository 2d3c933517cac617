import type { ErrorRecord } from '../errors/index.js';
import { KB_STEPS, RECOVERY_STATES, type RecoveryState, type StepName } from '../machines/index.js';
import type { ProgressSink } from '../recovery/progress.js';
import { formatBytes, progressLine } from './output.js';

const STEP_COUNT = RECOVERY_STATES.length - 1;

/** One short line per reached state on stderr, numbered like the KB's steps. */
export function progressPrinter(serviceName: string, kmsdata: () => string): ProgressSink {
  return {
    stepStarted(_state, step: StepName, attempt) {
      if (attempt > 1) progressLine(`      ${step}: attempt ${attempt}`);
    },
    reached(state: RecoveryState, facts: unknown) {
      const index = RECOVERY_STATES.indexOf(state);
      const label = `[${index}/${STEP_COUNT}] ${state.padEnd(14)} KB step ${KB_STEPS[state].kbSteps}:`;
      progressLine(`${label} ${describe(state, facts as Record<string, unknown> | undefined, serviceName, kmsdata())}`);
    },
    stepFailed(state: RecoveryState, error: ErrorRecord) {
      progressLine(`[!]   ${state.padEnd(14)} ${error.code}: ${error.message}`);
    },
    note(message: string) {
      progressLine(`      ${message}`);
    },
  };
}

function describe(state: RecoveryState, facts: Record<string, unknown> = {}, service: string, kmsdata: string): string {
  switch (state) {
    case 'reinstalled':
      return `${service} is installed; backup holds ${String(facts.backupFiles)} files (${formatBytes(Number(facts.backupBytes))}); run ${String(facts.runId)}`;
    case 'stopped':
      return `${service} is stopped`;
    case 'cleared':
      return `emptied ${kmsdata}: its ${String(facts.removed)} entries are kept in a quarantine folder beside it until the KMS runs`;
    case 'restored':
      return facts.alreadyRestored
        ? `Kmsdata already matched the backup (${String(facts.fileCount)} files)`
        : `${String(facts.fileCount)} files (${formatBytes(Number(facts.totalBytes))}) restored and verified against the backup`;
    case 'credential-set':
      return `alpha string of the original KMS (from the ${String(facts.source).replace('-', ' ')}) given as start parameter`;
    case 'running':
      return `${service} is running: ${KB_STEPS.running.reached}`;
  }
}
