import { isKmsRecoverError } from '../errors/index.js';
import type { Host, Manifest, RunFolder, ServiceState } from '../host/types.js';

const NOTHING: Manifest = { files: [], dirs: [], fileCount: 0, totalBytes: 0, digest: '' };

/** What a server holds now, looked at (never taken from a checkpoint): for abandon and status. */
export interface ServerCondition {
  service: ServiceState | 'unknown';
  kmsdata: {
    path: string;
    /** `restored`: equal to the backup's manifest; `partial`: anything else that is not empty. */
    holds: 'empty' | 'partial' | 'restored' | 'missing' | 'unknown';
    /** Entries found that differ from the backup (missing, extra or changed paths). */
    differences: number;
  };
  /** Quarantine and staging folders of runs, beside Kmsdata. */
  folders: RunFolder[];
}

export async function serverCondition(host: Host, serviceName: string, kmsdata: string, manifest: Manifest): Promise<ServerCondition> {
  const service = await host.queryService(serviceName).then((s) => s.state, () => 'unknown' as const);
  let holds: ServerCondition['kmsdata']['holds'] = 'unknown';
  let differences = 0;
  try {
    const against = await host.verifyKmsdata(kmsdata, manifest);
    if (against.matches) holds = 'restored';
    else {
      const entries = await host.verifyKmsdata(kmsdata, NOTHING);
      holds = entries.matches ? 'empty' : 'partial';
      differences = against.differences.length;
    }
  } catch (error) {
    if (isKmsRecoverError(error) && error.code === 'PATH_MISSING') holds = 'missing';
  }
  const folders = await host.runFolders(kmsdata).catch(() => []);
  return { service, kmsdata: { path: kmsdata, holds, differences }, folders };
}

/** The condition in an administrator's words, a line each. */
export function describeCondition(c: ServerCondition): string[] {
  const holds = {
    empty: 'empty (KB step 3 done, nothing restored)',
    partial: `partly changed: ${c.kmsdata.differences} entries differ from the backup`,
    restored: 'equal to the backup (KB step 4 done)',
    missing: 'missing (a restore was cut off between its two renames; the next run puts it back)',
    unknown: 'could not be read',
  }[c.kmsdata.holds];
  const lines = [`Service MSExchangeKMS: ${c.service}`, `Kmsdata ${c.kmsdata.path}: ${holds}`];
  for (const f of c.folders) {
    lines.push(f.kind === 'quarantine'
      ? `Quarantine ${f.path}: ${f.entries} entries of the reinstall's Kmsdata (deleted by the next run once the KMS runs)`
      : `Staging ${f.path}: an unfinished restore copy (deleted by the next run once the KMS runs)`);
  }
  return lines;
}
