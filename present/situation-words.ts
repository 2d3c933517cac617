import type { RunSituation } from '../domain/index.js';

/** A run's situation in a few words: `status`'s State line, `list`, `watch`, `history` and the outcome line agree. */
export const SITUATION_WORDS: Record<RunSituation, string> = {
  working: 'working',
  retrying: 'waiting to retry a step',
  interrupted: 'interrupted: no process is running it',
  unresponsive: 'held by a process that does not respond',
  waiting: 'waiting for you',
  failed: 'a step failed',
  finishing: 'the KMS runs; its clean-up was cut off',
  finished: 'recovery complete',
  abandoned: 'abandoned',
};
