import type { StepEffects, StepEnvironment } from './step-environment.js';
import type { ServerChecks } from './server-checks.js';

/** KB step 7: start the KMS with the alpha string and watch it through the settle window; after a confirm, the running KMS is watched the same way. */
export function startServiceStep(env: StepEnvironment, checks: ServerChecks): StepEffects<'startService'> {
  return {
    effect: async (input, guard, track) => {
      const { serviceName, kmsdata } = input;
      const alpha = await checks.requireAlpha();
      let since = checks.startRequestedAt();
      if ((await env.host.queryService(serviceName)).state !== 'running') {
        await checks.assertStillRestored(input, 'startService', guard, track);
        guard.assertMayAct?.();
        since = new Date();
        env.fenced.recordStartRequested(serviceName, since.toISOString());
        await env.host.startService(serviceName, [alpha.reveal()], guard);
      }
      // A start cut off by a crash or a reboot comes back here: the window is watched again, in full.
      return checks.settled(input, since, alpha.reveal(), guard, track);
    },
    needsAlpha: true,
    verifyManual: async (input, guard, track) => {
      await checks.assertRestoredBeforeOperator('startService', input, guard, track);
      const status = await env.host.queryService(input.serviceName);
      if (status.state !== 'running') throw checks.unverified('startService', `${input.serviceName} is ${status.state}, not running`);
      return checks.settled(input, checks.startRequestedAt(), null, guard, track);
    },
  };
}
