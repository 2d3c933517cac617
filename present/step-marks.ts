import type { RunSituation } from '../domain/index.js';

/** Where one of the six states stands in a run, as stored (`status --json` `steps[].status`). */
export type StepProgress = 'done' | 'working' | 'waiting' | 'failed' | 'pending';

/** How a screen marks one of the six states: the status checklist and the diagram's boxes alike. */
export type StepMark = 'done' | 'working' | 'interrupted' | 'waiting' | 'failed' | 'pending';

/**
 * A state's mark, read with the run's situation (recovery/run-situation.ts), so the checklist
 * and the diagram never tell the run apart from `status`: the step under way is working only
 * while a live process drives it, interrupted when nobody does (or its holder does not respond).
 */
export function stepMark(progress: StepProgress, situation: RunSituation): StepMark {
  switch (progress) {
    case 'working': return situation === 'working' || situation === 'retrying' ? 'working' : situation === 'waiting' ? 'waiting' : 'interrupted';
    case 'failed': return situation === 'waiting' ? 'waiting' : situation === 'interrupted' || situation === 'unresponsive' ? 'interrupted' : 'failed';
    default: return progress;
  }
}
