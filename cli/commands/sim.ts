import path from 'node:path';
import { KMS_SERVICE_NAME } from '../../host/types.js';
import { assertSimRoot, initSimHost, rebootSimHost, renameSimHost, SimServiceManager } from '../../host/sim/index.js';
import { readAlpha } from '../alpha-input.js';
import { printJson, printLine } from '../output.js';

export interface SimInitCommandOptions {
  json?: boolean;
  extraFiles?: string;
  extraBytes?: string;
  computerName?: string;
}

export async function simInitCommand(dir: string, options: SimInitCommandOptions): Promise<void> {
  const result = await initSimHost(path.resolve(dir), {
    extraFiles: options.extraFiles === undefined ? undefined : Number(options.extraFiles),
    extraBytes: options.extraBytes === undefined ? undefined : Number(options.extraBytes),
    computerName: options.computerName,
  });
  if (options.json) {
    printJson({ root: result.root, kmsdata: result.kmsdata, backup: result.backup, startupDisk: result.startupDisk, computerName: result.computerName });
    return;
  }
  printLine(`Simulated KMS host ${result.computerName} at ${result.root}`);
  printLine(`  original Kmsdata backed up to   ${result.backup}`);
  printLine(`  original startup disk           ${result.startupDisk}`);
  printLine(`  reinstalled Kmsdata (new alpha) ${result.kmsdata}, ${KMS_SERVICE_NAME} running`);
}

export async function simStatusCommand(dir: string, options: { json?: boolean }): Promise<void> {
  assertSimRoot(path.resolve(dir));
  const status = await new SimServiceManager(path.resolve(dir)).queryService(KMS_SERVICE_NAME);
  if (options.json) printJson(status);
  else printLine(`${status.name}: ${status.state}${status.pid ? ` (pid ${status.pid})` : ''}${status.startType ? `, start type ${status.startType}` : ''}`);
}

/** What an operator does in the Services dialog for a manual start: the alpha string as start parameter. */
export async function simStartCommand(dir: string, options: { startupDisk?: string }): Promise<void> {
  assertSimRoot(path.resolve(dir));
  const alpha = await readAlpha(options.startupDisk);
  const status = await new SimServiceManager(path.resolve(dir)).startService(KMS_SERVICE_NAME, [alpha.reveal()]);
  printLine(`${status.name}: ${status.state}${status.pid ? ` (pid ${status.pid})` : ''}`);
}

export async function simStopCommand(dir: string): Promise<void> {
  assertSimRoot(path.resolve(dir));
  const status = await new SimServiceManager(path.resolve(dir)).stopService(KMS_SERVICE_NAME);
  printLine(`${status.name}: ${status.state}`);
}

export async function simRebootCommand(dir: string, options: { json?: boolean }): Promise<void> {
  const result = await rebootSimHost(path.resolve(dir));
  if (options.json) {
    printJson(result);
    return;
  }
  printLine(`power lost: ${result.killed ? `KMS daemon pid ${result.killed} killed` : 'no KMS daemon was running'}`);
  printLine(result.started ? 'boot: automatic services started' : `boot: ${result.error ?? 'an automatic service did not start'}`);
}

/** The simulated computer gets another name (the KB recovers KMS to a computer with the same name). */
export async function simRenameCommand(dir: string, name: string): Promise<void> {
  const computerName = await renameSimHost(path.resolve(dir), name);
  printLine(`the simulated computer at ${path.resolve(dir)} is now named ${computerName}`);
}
