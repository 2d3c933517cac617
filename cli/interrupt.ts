import { printed } from './printed-commands.js';

/**
 * SIGINT (Ctrl-C) and SIGTERM during a run: the first ends the drive cleanly through the signal
 * returned (recovery/drive-run.ts says where it stood, exit 130 or 143); a second one forces the
 * process to end at once. Outside a run the default behaviour is kept.
 */
export async function withInterrupt<T>(work: (interrupt: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (!controller.signal.aborted) {
      process.stderr.write(`\nkms-recover: ${signal === 'SIGINT' ? 'Ctrl-C' : signal}: stopping at the next safe point (again to force)\n`);
      controller.abort(signal);
      return;
    }
    process.stderr.write(`kms-recover: forced to stop; the run resumes from its last checkpoint: ${printed('kms-recover resume')}\n`);
    process.exit(signal === 'SIGTERM' ? 143 : 130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    return await work(controller.signal);
  } finally {
    // Once interrupted, the handler stays: work that cannot be cancelled may still hold the
    // process, and the next Ctrl-C must force it, saying so.
    if (!controller.signal.aborted) {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  }
}
