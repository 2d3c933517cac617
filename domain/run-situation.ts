/**
 * Where a run stands, in one word every screen and the exit status derive from:
 * `working` (a live process drives it), `retrying` (a live process waits to retry a step),
 * `interrupted` (not finished, and no live process drives it: resume), `unresponsive` (a process
 * holds the run but its heartbeat stopped: paused, hung, or its machine gone; takeover once sure),
 * `waiting` (a manual step is the administrator's), `failed`, `finishing` (running, its clean-up
 * cut off), `finished`, `abandoned`.
 */
export const RUN_SITUATIONS = ['working', 'retrying', 'interrupted', 'unresponsive', 'waiting', 'failed', 'finishing', 'finished', 'abandoned'] as const;
export type RunSituation = (typeof RUN_SITUATIONS)[number];
