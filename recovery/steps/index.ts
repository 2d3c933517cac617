import { clearKmsdataStep } from './clear-kmsdata.js';
import { restoreKmsdataStep } from './restore-kmsdata.js';
import { serverChecks } from './server-checks.js';
import { setCredentialStep } from './set-credential.js';
import { startServiceStep } from './start-service.js';
import type { StepEnvironment } from './step-environment.js';
import { stepActor } from './step-runner.js';
import { stopServiceStep } from './stop-service.js';

export type { StepEnvironment } from './step-environment.js';

/** The real effects behind the machine's named actors: each step's effect, run by the one step runner. */
export function stepActors(env: StepEnvironment) {
  const checks = serverChecks(env);
  return {
    stopService: stepActor(env, 'stopService', stopServiceStep(env, checks)),
    clearKmsdata: stepActor(env, 'clearKmsdata', clearKmsdataStep(env, checks)),
    restoreKmsdata: stepActor(env, 'restoreKmsdata', restoreKmsdataStep(env, checks)),
    setCredential: stepActor(env, 'setCredential', setCredentialStep(env, checks)),
    startService: stepActor(env, 'startService', startServiceStep(env, checks)),
  };
}
