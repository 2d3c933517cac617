import { netbiosNameProblem, sameComputerName } from '../domain/index.js';
import { KmsRecoverError } from '../errors/index.js';
import type { Host } from '../host/types.js';

/** `--original-name <NAME>`: a Windows computer name (NetBIOS rules), or a usage error. */
export function parseOriginalName(value: string): string {
  const problem = netbiosNameProblem(value);
  if (problem) throw new KmsRecoverError('USAGE', `--original-name takes the ORIGINAL server's computer name; "${value}" is not one: ${problem}`);
  return value;
}

/**
 * KB Q198814 recovers a Key Management Server "to a computer with the same name". The target's
 * name is read from the server (Windows: GetComputerNameExW, or the --server name; the simulator:
 * its name); with `originalName` a different name is refused before anything changes.
 */
export async function checkComputerName(host: Host, originalName: string | undefined): Promise<string> {
  const name = await host.computerName();
  if (originalName !== undefined && !sameComputerName(name, originalName)) {
    throw new KmsRecoverError('COMPUTER_NAME_MISMATCH',
      `this server's computer name is ${name}, not ${originalName.toUpperCase()}: KB Q198814 recovers the Key Management Server to a computer with the same name as the original; `
      + `give this server the name ${originalName.toUpperCase()} (or run kms-recover on the server that has it), then start again. Nothing was changed`,
      { computerName: name, originalName });
  }
  return name;
}
