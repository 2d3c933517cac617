import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import path from 'node:path';
import { KmsRecoverError } from '../../errors/index.js';
import type { StartType } from '../types.js';

/** One service as the simulated service manager records it in `scm/services.json`. */
export interface SimServiceRecord {
  displayName: string;
  startType: StartType;
  state: 'running' | 'stopped';
  pid: number | null;
  startedAt: string | null;
  /**
   * Where the service keeps its data, as its configuration says (Windows derives it from the
   * service's binary path): relative to the simulated host's root (its system drive), or
   * absolute. A record written before this field existed means `Exchsrvr/Kmsdata`.
   */
  dataFolder?: string;
}

/** The data folder of a service record written by `sim init` (relative to the simulated host's root). */
export const SIM_DATA_FOLDER = 'Exchsrvr/Kmsdata';

export interface SimServicesFile {
  services: Record<string, SimServiceRecord>;
}

const START_TYPES: readonly string[] = ['auto', 'manual', 'disabled'];

function invalid(file: string, why: string): KmsRecoverError {
  return new KmsRecoverError('SIM_INVALID', `${file} is not a valid service manager state: ${why}`, { file });
}

function parseRecord(file: string, name: string, value: unknown): SimServiceRecord {
  if (!value || typeof value !== 'object') throw invalid(file, `service ${name} is not an object`);
  const v = value as Record<string, unknown>;
  if (typeof v.displayName !== 'string') throw invalid(file, `service ${name} has no displayName`);
  if (typeof v.startType !== 'string' || !START_TYPES.includes(v.startType)) {
    throw invalid(file, `service ${name} has an unknown startType`);
  }
  if (v.state !== 'running' && v.state !== 'stopped') throw invalid(file, `service ${name} has an unknown state`);
  const pid = v.pid ?? null;
  if (pid !== null && !(typeof pid === 'number' && Number.isInteger(pid) && pid > 0)) {
    throw invalid(file, `service ${name} has an invalid pid`);
  }
  const startedAt = v.startedAt ?? null;
  if (startedAt !== null && typeof startedAt !== 'string') throw invalid(file, `service ${name} has an invalid startedAt`);
  if (v.dataFolder !== undefined && (typeof v.dataFolder !== 'string' || v.dataFolder === '')) throw invalid(file, `service ${name} has an invalid dataFolder`);
  return {
    displayName: v.displayName,
    startType: v.startType as StartType,
    state: v.state,
    pid,
    startedAt,
    ...(v.dataFolder === undefined ? {} : { dataFolder: v.dataFolder }),
  };
}

export async function readServicesFile(file: string): Promise<SimServicesFile> {
  let text: string;
  try {
    text = await fsp.readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new KmsRecoverError('SIM_INVALID',
        `${path.dirname(path.dirname(file))} is not a simulated host (run kms-recover sim init first)`, { missing: file });
    }
    throw error;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw invalid(file, 'not JSON');
  }
  if (!parsed || typeof parsed !== 'object') throw invalid(file, 'not an object');
  const services = (parsed as { services?: unknown }).services;
  if (!services || typeof services !== 'object' || Array.isArray(services)) throw invalid(file, 'no services');
  const out: Record<string, SimServiceRecord> = {};
  for (const [name, value] of Object.entries(services as Record<string, unknown>)) {
    out[name] = parseRecord(file, name, value);
  }
  return { services: out };
}

/** Write the state atomically: a temporary file in the same folder, flushed, then renamed over. */
export async function writeServicesFile(file: string, state: SimServicesFile): Promise<void> {
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const handle = await fsp.open(tmp, 'w', 0o644);
  try {
    await handle.writeFile(`${JSON.stringify(state, null, 2)}\n`, 'utf8');
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await fsp.rename(tmp, file);
  } catch (error) {
    await fsp.rm(tmp, { force: true });
    throw error;
  }
}

/** Windows service names are case-insensitive: find the recorded key for `name`. */
export function findServiceKey(state: SimServicesFile, name: string): string | undefined {
  if (Object.prototype.hasOwnProperty.call(state.services, name)) return name;
  const lower = name.toLowerCase();
  return Object.keys(state.services).find((key) => key.toLowerCase() === lower);
}
