import type { DriveIO, RewindPlan } from '../recovery/continue-run.js';
import { isKmsRecoverError } from '../errors/index.js';
import { ALPHA_ENV_VAR } from '../host/fs/index.js';
import { readAlpha } from './alpha-input.js';
import { confirmOrRefuse } from './confirm-prompt.js';
import { withInterrupt } from './interrupt.js';
import { progressPrinter } from './progress-printer.js';
import { logPathFor } from './database-location.js';
import { createFileLogger } from './logger.js';

/** The terminal's side of driving a run: the alpha string, confirmations on stderr, progress lines, the log, Ctrl-C. */
export function terminalDriveIO(dbPath: string, options: { startupDisk?: string; yes?: boolean }): DriveIO {
  return {
    readAlpha: () => readAlpha(options.startupDisk).catch((error: unknown) => {
      // Ctrl-C at a prompt asked during a drive ends the drive as Ctrl-C does anywhere else in it.
      if (isKmsRecoverError(error) && error.code === 'INTERRUPTED') process.emit('SIGINT', 'SIGINT');
      throw error;
    }),
    alphaAsked: () => options.startupDisk === undefined && process.env[ALPHA_ENV_VAR] === undefined,
    confirmRewind: async (plan: RewindPlan) => {
      process.stderr.write(`Run ${plan.runId} goes back from ${plan.from} to ${plan.to}. These steps will be done again:\n${plan.redo.map((step) => `  - ${step}`).join('\n')}\n`);
      await confirmOrRefuse(`Go back to ${plan.to} and redo them?`, options.yes);
    },
    progress: (serviceName, kmsdata) => progressPrinter(serviceName, () => kmsdata),
    // pino is loaded with the drive's modules, in their one module graph, not by a dynamic
    // import of its own once the host and the alpha string are ready: a resume reaches its step
    // ~5% sooner, with ~8% less CPU (bench/resume-latency.mjs; status still never loads pino).
    logger: async () => createFileLogger(logPathFor(dbPath)),
    withInterrupt,
  };
}
