import type { DriveIO, RewindPlan } from '../recovery/continue-run.js';
import { readAlpha } from './alpha-input.js';
import { confirmOrRefuse } from './confirm-prompt.js';
import { withInterrupt } from './interrupt.js';
import { progressPrinter } from './progress-printer.js';
import { openLogger } from './session.js';

/** The terminal's side of driving a run: the alpha string, confirmations on stderr, progress lines, the log, Ctrl-C. */
export function terminalDriveIO(dbPath: string, options: { startupDisk?: string; yes?: boolean }): DriveIO {
  return {
    readAlpha: () => readAlpha(options.startupDisk),
    confirmRewind: async (plan: RewindPlan) => {
      process.stderr.write(`Run ${plan.runId} goes back from ${plan.from} to ${plan.to}. These steps will be done again:\n${plan.redo.map((step) => `  - ${step}`).join('\n')}\n`);
      await confirmOrRefuse(`Go back to ${plan.to} and redo them?`, options.yes);
    },
    progress: (serviceName, kmsdata) => progressPrinter(serviceName, () => kmsdata),
    logger: () => openLogger(dbPath),
    withInterrupt,
  };
}
