import type { StepEffects, StepEnvironment } from './step-environment.js';
import type { ServerChecks } from './server-checks.js';

/** KB steps 5-6: the alpha string for the start, held in memory only; after a confirm, the operator typed it into the service. */
export function setCredentialStep(env: StepEnvironment, checks: ServerChecks): StepEffects<'setCredential'> {
  return {
    effect: async (input, guard, track) => {
      await checks.ensureStopped(input.serviceName, 'setCredential', guard);
      await checks.assertStillRestored(input, 'setCredential', guard, track);
      const alpha = await checks.requireAlpha();
      guard.assertMayAct?.();
      return { source: alpha.source, length: alpha.length };
    },
    needsAlpha: true,
    verifyManual: async (input, guard, track) => {
      await checks.assertRestoredBeforeOperator('setCredential', input, guard, track);
      // Typed by the operator into the service's start parameters: nothing here can read it back.
      return { source: 'operator', length: null };
    },
  };
}
