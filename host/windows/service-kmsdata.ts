import path from 'node:path';
import { KmsRecoverError } from '../../errors/index.js';

/*
 * Where the KMS keeps its data, from its service's binary path (QueryServiceConfigW's
 * lpBinaryPathName, the command line the service control manager starts it with): Exchange
 * installs the KMS as `<Exchsrvr>\bin\kmserver.exe`, and its data is `<Exchsrvr>\Kmsdata`.
 * Pure: the Windows call is scm-api.ts's.
 */

const p = path.win32;

/**
 * The program of a service's command line, as the service control manager reads it: a quoted
 * path up to its closing quote; unquoted, up to the end of the first `.exe` that ends a word
 * (a path with spaces registered without quotes), else up to the first space.
 */
export function executableOf(binaryPath: string): string {
  const line = binaryPath.trim();
  if (line.startsWith('"')) {
    const end = line.indexOf('"', 1);
    return end < 0 ? line.slice(1) : line.slice(1, end);
  }
  const exe = /^(.*?\.exe)(?=\s|$)/i.exec(line);
  if (exe) return exe[1]!;
  const space = line.search(/\s/);
  return space < 0 ? line : line.slice(0, space);
}

function unknown(service: string, binaryPath: string, why: string): KmsRecoverError {
  return new KmsRecoverError('KMSDATA_NOT_THE_SERVICES',
    `cannot tell where ${service} keeps its data: its binary path ${JSON.stringify(binaryPath)} ${why}; Exchange installs it as <Exchsrvr>\\bin\\kmserver.exe, with its data in <Exchsrvr>\\Kmsdata: check the service (sc qc ${service})`,
    { service, binaryPath });
}

/**
 * `<Exchsrvr>\Kmsdata` of the service whose binary path is `binaryPath`. With `server`, as this
 * workstation reaches it: the same folder on that server's admin share (`C:\exchsrvr\Kmsdata` ->
 * `\\SERVER\C$\exchsrvr\Kmsdata`).
 */
export function kmsdataFromBinaryPath(service: string, binaryPath: string, server?: string): string {
  const exe = executableOf(binaryPath);
  if (exe.includes('%')) throw unknown(service, binaryPath, 'holds an environment variable this tool does not expand');
  const local = /^([A-Za-z]):\\/.exec(exe);
  if (!local) throw unknown(service, binaryPath, 'is not a full path on a drive');
  const bin = p.dirname(p.normalize(exe));
  if (p.basename(bin).toLowerCase() !== 'bin') throw unknown(service, binaryPath, 'is not in a bin folder');
  const kmsdata = p.join(p.dirname(bin), 'Kmsdata');
  if (server === undefined) return kmsdata;
  const name = server.replace(/^\\\\/, '');
  return `\\\\${name}\\${local[1]!.toUpperCase()}$\\${kmsdata.slice(3)}`;
}
