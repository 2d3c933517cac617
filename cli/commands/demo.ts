import path from 'node:path';
import { initSimHost, temporarySimRoot } from '../../host/sim/index.js';
import { printLine, progressLine } from '../output.js';
import { startCommand } from './start.js';

export interface DemoCommandOptions {
  dir?: string;
  db?: string;
  json?: boolean;
}

/** `sim init` in a temporary folder, then a full recovery on it with the original startup disk. */
export async function demoCommand(options: DemoCommandOptions): Promise<void> {
  const root = options.dir ? path.resolve(options.dir) : await temporarySimRoot();
  const sim = await initSimHost(root);
  progressLine(`demo: simulated server at ${root}: original KMS backed up, Exchange and KMS reinstalled with a new alpha string`);
  await startCommand({
    kmsdata: sim.kmsdata, backup: sim.backup, startupDisk: sim.startupDisk, adapter: 'sim', simRoot: root,
    db: options.db, json: options.json,
  });
  if (!options.json) {
    printLine(`The simulated KMS keeps running at ${root}; stop it with: kms-recover sim stop ${root}`);
  }
}
