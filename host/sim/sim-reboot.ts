import { promises as fsp } from 'node:fs';
import { NO_RUN_GUARD } from '../types.js';
import { assertSimRoot } from './sim-layout.js';
import { SimServiceManager, type SimServiceManagerOptions } from './sim-service-manager.js';
import { readServicesFile } from './sim-state.js';

export interface RebootResult {
  /** The pid of the KMS daemon killed by the power loss, or null if none ran. */
  killed: number | null;
  /** Whether every auto-start service came back up. */
  started: boolean;
  /** Why an auto-start service did not come back up (secret-free). */
  error?: string;
}

/** The alpha string on the startup disk in drive A:, if a readable one is there (leniently parsed). */
async function alphaFromDriveA(file: string): Promise<string | undefined> {
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  const match = /^pwd=([^\r\n]*)$/im.exec(text);
  return match?.[1] || undefined;
}

/**
 * Pull the plug and boot again: SIGKILL the daemon (no clean shutdown), record it stopped,
 * then start every auto-start service as Windows does at boot, the KMS taking its alpha string
 * from the startup disk in `<root>/A/Kmspwd.ini` if one is there. A service that fails to start
 * (say, the alpha string does not fit the data now in Kmsdata) stays stopped; that is reported,
 * not thrown.
 */
export async function rebootSimHost(root: string, options: SimServiceManagerOptions = {}): Promise<RebootResult> {
  const paths = assertSimRoot(root);
  const manager = new SimServiceManager(paths.root, options);
  const killed = await manager.killAll();

  const alpha = await alphaFromDriveA(paths.startupDisk);
  const state = await readServicesFile(paths.servicesFile);
  const auto = Object.entries(state.services).filter(([, record]) => record.startType === 'auto').map(([key]) => key);
  let started = auto.length > 0;
  let error: string | undefined;
  for (const key of auto) {
    try {
      await manager.startService(key, alpha ? [alpha] : [], NO_RUN_GUARD);
    } catch (cause) {
      started = false;
      error ??= `${key}: ${cause instanceof Error ? cause.message : String(cause)}`;
    }
  }
  return error === undefined ? { killed, started } : { killed, started, error };
}
