import { MACHINE_VERSION, type RecoveryState } from '../../machines/index.js';
import { parseContext, type RunOptions, type RunPhase, type RunRecord } from '../../persistence/index.js';

/**
 * A run record as the store returns it, for screens' unit tests: its context parsed from a
 * snapshot by the store's own parser, so a test cannot hand a screen what the store never would.
 */
export function runRecord(fields: {
  state: RecoveryState; phase: RunPhase; lastError?: unknown; createdAt: string; updatedAt: string; options?: RunOptions; serverKey?: string;
}): RunRecord {
  const snapshot = {
    value: {},
    context: {
      serviceName: 'MSExchangeKMS', kmsdata: 'D:\\exchsrvr\\KMSDATA', backup: 'E:\\backup\\KMSDATA',
      backupManifest: { fileCount: 3, totalBytes: 1024, digest: 'd' }, kmsdataIdentity: null, facts: {}, lastError: fields.lastError ?? null,
    },
  };
  return {
    id: 'abcd1234', host: 'kms01', adapter: 'sim', adapterConfig: {}, machineVersion: MACHINE_VERSION, definitionHash: 'x',
    state: fields.state, phase: fields.phase, snapshot, context: parseContext('abcd1234', snapshot), options: fields.options ?? {},
    createdAt: fields.createdAt, updatedAt: fields.updatedAt, serverKey: fields.serverKey ?? 'k', closedAt: null, fence: 1,
    params: { serviceName: 'MSExchangeKMS', kmsdata: 'D:\\exchsrvr\\KMSDATA', backup: 'E:\\backup\\KMSDATA', backupManifest: { fileCount: 3, totalBytes: 1024, digest: 'd' } },
    claimTaken: null,
  };
}
