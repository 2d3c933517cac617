import path from 'node:path';
import { KmsRecoverError } from '../errors/index.js';
import { fsKmsdataOperations } from './fs/index.js';
import { createSimHost } from './sim/sim-host.js';
import { assertSimRoot } from './sim/sim-layout.js';
import type { Host } from './types.js';

export const ADAPTERS = ['sim'] as const;
export type AdapterName = (typeof ADAPTERS)[number];

export interface AdapterChoice {
  name: AdapterName;
  /** Stored with the run, so `resume` rebuilds the same host. */
  config: { simRoot?: string };
}

/**
 * Picks the adapter for `start`. The simulator's root defaults to the folder holding
 * `Exchsrvr`, as `kms-recover sim init` lays it out.
 */
export function chooseAdapter(name: string | undefined, options: { kmsdata: string; simRoot?: string }): AdapterChoice {
  const adapter = name ?? 'sim';
  if (adapter !== 'sim') {
    throw new KmsRecoverError('ADAPTER_UNSUPPORTED', `unknown adapter "${adapter}" (available: ${ADAPTERS.join(', ')})`, { adapter });
  }
  const simRoot = path.resolve(options.simRoot ?? path.dirname(path.dirname(path.resolve(options.kmsdata))));
  return { name: 'sim', config: { simRoot } };
}

export async function createHost(choice: { name: string; config: Record<string, unknown> }): Promise<Host> {
  if (choice.name === 'sim') {
    const root = String(choice.config.simRoot ?? '');
    await assertSimRoot(root);
    return createSimHost(root, fsKmsdataOperations);
  }
  throw new KmsRecoverError('ADAPTER_UNSUPPORTED', `unknown adapter "${choice.name}" (available: ${ADAPTERS.join(', ')})`, { adapter: choice.name });
}
