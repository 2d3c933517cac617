import { open } from 'node:fs/promises';
import path from 'node:path';
import { KMS_DATABASE_FILE } from '../../domain/index.js';
import { KmsRecoverError } from '../../errors/index.js';
import { databaseIdentity } from '../fs/database-identity.js';
import { isInUse } from '../fs/file-errors.js';
import type { FolderIdentity, KmsObservation, ServiceControl, ServiceExit } from '../types.js';
import { describeEvents } from './event-log.js';
import type { ServiceEvent } from './event-log-records.js';
import { win32 } from './win32-ffi.js';

/** ComputerNameNetBIOS of COMPUTER_NAME_FORMAT: the name KB Q198814's "same name" means. */
const COMPUTER_NAME_NETBIOS = 0;
const MAX_COMPUTERNAME_LENGTH = 15;

/**
 * Whether the KMS holds `kmsdata.edb`: it opens its database without sharing, so opening it for
 * reading fails with a sharing violation while it runs. The file's identity then (a stat asks for
 * its attributes only, which Windows grants); null when the file opens (nobody holds it) or is gone.
 */
export async function heldDatabase(kmsdata: string): Promise<FolderIdentity | null> {
  try {
    const handle = await open(path.join(kmsdata, KMS_DATABASE_FILE), 'r');
    await handle.close();
    return null;
  } catch (error) {
    if (!isInUse((error as NodeJS.ErrnoException).code)) return null;
    return databaseIdentity(kmsdata);
  }
}

export interface WindowsObserverParts {
  services: ServiceControl;
  /** The service's last exit codes (QueryServiceStatusEx), where the service control knows them. */
  lastExit?: (name: string) => Promise<ServiceExit | undefined>;
  readEvents: (source: string, since: Date, server?: string) => ServiceEvent[];
  server?: string;
}

/** The KMS on Windows now: the service control manager's state and exit codes, the sharing violation on its database, its Application-log errors. */
export async function observeWindowsKms(parts: WindowsObserverParts, name: string, kmsdata: string, since: Date): Promise<KmsObservation> {
  const status = await parts.services.queryService(name);
  // The Application log's clock is the server's: look a little further back than our own.
  const events = parts.readEvents(name, new Date(since.getTime() - 5000), parts.server).filter((e) => e.type === 'error');
  const errors = events.map((e) => describeEvents([e])).filter((text): text is string => text !== undefined);
  if (status.state === 'running') return { status, errors, heldDatabase: await heldDatabase(kmsdata) };
  const exit = status.state === 'stopped' ? await parts.lastExit?.(name) : undefined;
  return { status, errors, heldDatabase: null, ...(exit ? { exit } : {}) };
}

/** This computer's NetBIOS name (GetComputerNameExW), or the --server name for a remote server. */
export function windowsComputerName(server: string | undefined): string {
  if (server !== undefined) return server.replace(/^\\\\/, '').toUpperCase();
  const f = win32();
  const buffer = Buffer.alloc((MAX_COMPUTERNAME_LENGTH + 1) * 2);
  const size = [MAX_COMPUTERNAME_LENGTH + 1];
  if (!f.GetComputerNameExW(COMPUTER_NAME_NETBIOS, buffer, size)) {
    throw new KmsRecoverError('INTERNAL', `GetComputerNameExW failed with Windows error ${f.GetLastError() as number}`);
  }
  return buffer.toString('utf16le', 0, (size[0] ?? 0) * 2);
}
