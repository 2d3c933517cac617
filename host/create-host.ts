import path from 'node:path';
import { KmsRecoverError } from '../errors/index.js';
import { fsKmsdataOperations } from './fs/index.js';
import type { Host } from './types.js';
import { checkServerName } from './windows/remote-target.js';

export const ADAPTERS = ['sim', 'windows'] as const;
export type AdapterName = (typeof ADAPTERS)[number];

export interface AdapterChoice {
  name: AdapterName;
  /** Stored with the run, so `resume` rebuilds the same host. */
  config: { simRoot?: string; server?: string };
}

/** `windows` on a Windows server, the simulator anywhere else. */
export function defaultAdapter(platform: NodeJS.Platform = process.platform): AdapterName {
  return platform === 'win32' ? 'windows' : 'sim';
}

function unknownAdapter(name: string): KmsRecoverError {
  return new KmsRecoverError('ADAPTER_UNSUPPORTED', `unknown adapter "${name}" (available: ${ADAPTERS.join(', ')})`, { adapter: name });
}

/** The Windows adapter drives the real service manager: only on Windows itself. */
export function assertAdapterSupported(name: AdapterName, platform: NodeJS.Platform = process.platform): void {
  if (name === 'windows' && platform !== 'win32') {
    throw new KmsRecoverError('ADAPTER_UNSUPPORTED',
      `the windows adapter calls the Windows service control manager API, from the Exchange server or a Windows workstation; this is ${platform}: use --adapter sim to practise`,
      { adapter: name, platform });
  }
}

/**
 * Picks the adapter for `start` (default: `windows` on win32 or with `server`, else `sim`). The
 * simulator's root defaults to the folder holding `Exchsrvr`, as `kms-recover sim init` lays it
 * out. `server` (windows only) is the machine whose service control manager and admin share the
 * run drives; it is stored with the run, so `resume` drives the same one.
 */
export function chooseAdapter(
  name: string | undefined,
  options: { kmsdata: string; simRoot?: string; server?: string },
  platform: NodeJS.Platform = process.platform,
): AdapterChoice {
  const adapter = name ?? (options.server !== undefined ? 'windows' : defaultAdapter(platform));
  if (adapter === 'windows') {
    assertAdapterSupported('windows', platform);
    return { name: 'windows', config: options.server !== undefined ? { server: checkServerName(options.server) } : {} };
  }
  if (options.server !== undefined) {
    throw new KmsRecoverError('USAGE', `--server drives a Windows server's service control manager: it goes with --adapter windows, not ${adapter}`,
      { adapter, server: options.server });
  }
  if (adapter !== 'sim') throw unknownAdapter(adapter);
  const simRoot = path.resolve(options.simRoot ?? path.dirname(path.dirname(path.resolve(options.kmsdata))));
  return { name: 'sim', config: { simRoot } };
}

/** Each adapter's code is loaded only when it is the one chosen (a resume on the simulator loaded the Windows adapter's 11 modules). */
export async function createHost(choice: { name: string; config: Record<string, unknown> }): Promise<Host> {
  if (choice.name === 'sim') {
    const root = String(choice.config.simRoot ?? '');
    const [{ assertSimRoot }, { createSimHost }] = await Promise.all([import('./sim/sim-layout.js'), import('./sim/sim-host.js')]);
    await assertSimRoot(root);
    return createSimHost(root, fsKmsdataOperations);
  }
  if (choice.name === 'windows') {
    // Also on resume: a run started on Windows is not continued from elsewhere.
    assertAdapterSupported('windows');
    const server = choice.config.server;
    const { createWindowsHost } = await import('./windows/windows-host.js');
    return createWindowsHost(typeof server === 'string' ? { server } : {});
  }
  throw unknownAdapter(choice.name);
}
