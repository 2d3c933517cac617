import { createRequire } from 'node:module';

/*
 * XState's functions, loaded once for the whole program. XState's ESM entry (xstate.cjs.mjs) only
 * re-exports its CommonJS bundles, so an ESM import makes node run its CommonJS lexer over them
 * to find the names: ~15 ms of every command that drives or plans a run. Required as CommonJS,
 * as commander (cli/index.ts) and better-sqlite3 (persistence/open-database.ts) are. This is no
 * I/O of the machine's: only how the XState package is loaded. Types still come from 'xstate'.
 */
const xstate: typeof import('xstate') = createRequire(import.meta.url)('xstate');

export const { assign, createActor, fromPromise, initialTransition, setup, transition } = xstate;
