import { existsSync, promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, it } from 'vitest';
import { fsKmsdataOperations } from '../../host/fs/index.js';
import { createSimHost, initSimHost, SimServiceManager, simPaths } from '../../host/sim/index.js';
import { HANG_STOP_FILE } from '../../host/sim/sim-layout.js';
import { KMS_SERVICE_NAME } from '../../host/types.js';
import { hostContract, type ContractServer } from '../contract/host-contract.js';

const PWD = /pwd=([A-Z0-9]{14})\r\n/;
const roots: string[] = [];

async function alphaOf(file: string): Promise<string> {
  return PWD.exec(await fsp.readFile(file, 'latin1'))![1]!;
}

/** A simulated server as `kms-recover sim init` builds it: the reinstall's KMS running. */
async function simServer(): Promise<ContractServer> {
  const dir = await fsp.mkdtemp(path.join(os.tmpdir(), 'kms-contract-'));
  roots.push(dir);
  const root = path.join(dir, 'server');
  const sim = await initSimHost(root);
  const paths = simPaths(root);
  const hangFile = path.join(paths.scm, HANG_STOP_FILE);
  return {
    host: createSimHost(root, fsKmsdataOperations, { stopTimeoutMs: 1500 }),
    service: KMS_SERVICE_NAME,
    missingService: 'KmsRecoverNoSuchService',
    kmsdata: sim.kmsdata,
    backup: sim.backup,
    alpha: await alphaOf(sim.startupDisk),
    wrongAlpha: await alphaOf(paths.reinstallDisk),
    hangStop: async (on) => {
      if (on) await fsp.writeFile(hangFile, '');
      else await fsp.rm(hangFile, { force: true });
    },
    // On Linux a folder holding an open file can always be renamed, and the file read: the
    // simulator models the KMS's lock for clear and restore only.
    differences: { renamesFolderHoldingOpenFile: true, readsFileHeldOpen: true },
    note: () => undefined,
  };
}

afterEach(async () => {
  for (const dir of roots.splice(0)) {
    const root = path.join(dir, 'server');
    await fsp.rm(path.join(simPaths(root).scm, HANG_STOP_FILE), { force: true });
    if (existsSync(simPaths(root).servicesFile)) await new SimServiceManager(root).killAll().catch(() => undefined);
    await fsp.rm(dir, { recursive: true, force: true });
  }
});

describe('the Host contract against the simulator', { timeout: 60_000 }, () => {
  for (const contractCase of hostContract) {
    it(contractCase.name, async () => {
      await contractCase.run(await simServer());
    });
  }
});
