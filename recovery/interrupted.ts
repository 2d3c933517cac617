import { KmsRecoverError } from '../errors/index.js';
import { kbLabel, KB_STEPS } from '../machines/recovery.kb-steps.js';
import { nextStateOf, stepOf } from '../machines/recovery.order.js';
import type { RunRecord } from '../persistence/index.js';
import { driveArgs } from './run-situation.js';

/** `interrupted during KB step 4 (restoreKmsdata): nothing is lost; run kms-recover resume <id>`. */
export function interruptedError(run: RunRecord, reason: unknown): KmsRecoverError {
  const signal = reason === 'SIGTERM' ? 'SIGTERM' : 'SIGINT';
  const step = stepOf(run.state);
  const next = nextStateOf(run.state);
  const where = step && next ? `${kbLabel(KB_STEPS[next].kbSteps)} (${step})` : 'its clean-up';
  return new KmsRecoverError(signal === 'SIGTERM' ? 'TERMINATED' : 'INTERRUPTED',
    `interrupted during ${where}: nothing is lost; run kms-recover resume ${run.id}${driveArgs({ manual: run.options.manual ?? [], startupDisk: run.options.startupDisk ?? null })}`, { runId: run.id, state: run.state, step, signal });
}
