import path from 'node:path';
import { initSimHost, temporarySimRoot } from '../../host/sim/index.js';
import { printLine, progressLine } from '../output.js';
import { prepareDatabaseFolder } from '../session.js';
import type { StartCommandOptions } from './start.js';

/** The demo's settle window: short, and said so (a real recovery's default is 15 s). */
const DEMO_SETTLE_SECONDS = '3';

export interface DemoCommandOptions {
  dir?: string;
  settle?: string;
  db?: string;
  json?: boolean;
}

/**
 * `demo`, first half: `sim init` in a temporary folder; returns the `start` that recovers it
 * with the original startup disk (cli/index.ts runs it, then `demoEnding`).
 */
export async function demoServer(options: DemoCommandOptions): Promise<StartCommandOptions> {
  // The database's folder before the simulated server is built (start checks it again).
  prepareDatabaseFolder(options.db);
  const root = options.dir ? path.resolve(options.dir) : await temporarySimRoot();
  const sim = await initSimHost(root);
  progressLine(`demo: simulated server at ${root}: original KMS backed up, Exchange and KMS reinstalled with a new alpha string`);
  const settle = options.settle ?? DEMO_SETTLE_SECONDS;
  progressLine(`demo: the started KMS is watched for ${settle} s before the run is running (a real recovery waits 15 s: --settle)`);
  return {
    kmsdata: sim.kmsdata, backup: sim.backup, startupDisk: sim.startupDisk, adapter: 'sim', simRoot: root,
    db: options.db, json: options.json, settle,
  };
}

/** `demo`, after the recovery: where the simulated KMS still runs. */
export function demoEnding(start: StartCommandOptions): void {
  if (!start.json) printLine(`The simulated KMS keeps running at ${start.simRoot}; stop it with: kms-recover sim stop ${start.simRoot}`);
}
