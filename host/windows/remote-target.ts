import path from 'node:path';
import { KmsRecoverError } from '../../errors/index.js';
import { win32 } from './win32-ffi.js';
import { win32Error } from './win32-errors.js';

/*
 * `--server NAME`: the KMS of another machine, its Kmsdata on that machine's admin share
 * (`\\NAME\C$\exchsrvr\KMSDATA`, any drive letter). The staging and quarantine folders are
 * beside Kmsdata, so they are on that share too.
 */

const SERVER_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9_.-]{0,253}[A-Za-z0-9_])?$/;

/** `NAME` from `NAME` or `\\NAME`, checked; one clear line when it is not a server name. */
export function checkServerName(server: string): string {
  const name = server.trim().replace(/^\\\\/, '');
  if (!SERVER_NAME.test(name) || name.includes('..')) {
    throw new KmsRecoverError('USAGE',
      `--server takes the name of a Windows server (KMSSERVER, or kmsserver.example.local), not ${JSON.stringify(server)}`, { server });
  }
  return name;
}

export interface UncParts {
  host: string;
  share: string;
  /** `\\host\share\` */
  shareRoot: string;
}

/** The server and admin share of a UNC Kmsdata path, refused unless it is on `server`'s admin share. */
export function uncKmsdataParts(kmsdata: string, server: string): UncParts {
  const name = checkServerName(server);
  const resolved = path.win32.resolve(kmsdata);
  const match = /^\\\\([^\\]+)\\([^\\]+)\\/.exec(resolved);
  const example = `\\\\${name}\\C$\\exchsrvr\\KMSDATA`;
  if (!match) {
    throw new KmsRecoverError('KMSDATA_NOT_ON_SERVER',
      `with --server ${name}, --kmsdata is the Kmsdata folder on that server's admin share, like ${example}; ${kmsdata} is not a network path`,
      { kmsdata, server: name });
  }
  const host = match[1]!;
  const share = match[2]!;
  if (host.toLowerCase() !== name.toLowerCase()) {
    throw new KmsRecoverError('KMSDATA_NOT_ON_SERVER',
      `--kmsdata ${kmsdata} is on \\\\${host}, not on --server ${name}: give the same name to both (${example})`,
      { kmsdata, server: name, host });
  }
  if (!/^[A-Za-z]\$$/.test(share)) {
    throw new KmsRecoverError('KMSDATA_NOT_ON_SERVER',
      `--kmsdata ${kmsdata} is on the share ${share}; use the server's admin share of the drive that holds Exchsrvr (${example}, D$, ...)`,
      { kmsdata, server: name, share });
  }
  return { host, share, shareRoot: `\\\\${host}\\${share}\\` };
}

const INVALID_FILE_ATTRIBUTES = 0xffffffff;

/**
 * Is the admin share reachable from here? GetFileAttributesW on its root: the Windows error
 * says which of no route, no such share, access denied (or a server that speaks only SMB 1).
 */
export function assertShareReachable(parts: UncParts, service: string): void {
  const f = win32();
  const attributes = f.GetFileAttributesW(parts.shareRoot) as number;
  if (attributes !== INVALID_FILE_ATTRIBUTES) return;
  const error = f.GetLastError() as number;
  throw win32Error(error, { op: 'share', api: `GetFileAttributesW(${parts.shareRoot})`, service, server: `\\\\${parts.host}` });
}
