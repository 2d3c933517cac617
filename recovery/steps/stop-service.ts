import type { StepEffects, StepEnvironment } from './step-environment.js';
import type { ServerChecks } from './server-checks.js';

/** KB step 2: stop the KMS service; after a confirm, the service is found stopped. */
export function stopServiceStep(env: StepEnvironment, checks: ServerChecks): StepEffects<'stopService'> {
  return {
    effect: async ({ serviceName }, guard) => {
      guard.assertMayAct?.();
      await env.host.stopService(serviceName, guard);
      const status = await env.host.queryService(serviceName);
      return { serviceState: status.state };
    },
    verifyManual: async ({ serviceName }) => {
      const status = await env.host.queryService(serviceName);
      if (status.state !== 'stopped') throw checks.unverified('stopService', `${serviceName} is still ${status.state}`);
      return { serviceState: status.state };
    },
  };
}
