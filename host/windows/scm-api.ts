import { win32, type ServiceStatusProcess, type Win32Handle } from './win32-ffi.js';

/*
 * The service control manager's API, one Windows call per method, each returning the value or
 * the GetLastError number read right after the failing call. No policy here: what a number
 * means is win32-errors.ts's, what to do about it windows-service-control.ts's.
 */

export const SC_MANAGER_CONNECT = 0x0001;
export const SERVICE_QUERY_CONFIG = 0x0001;
export const SERVICE_QUERY_STATUS = 0x0004;
export const SERVICE_START = 0x0010;
export const SERVICE_STOP = 0x0020;
const SC_STATUS_PROCESS_INFO = 0;
const SERVICE_CONTROL_STOP = 0x00000001;

/** SERVICE_STATUS dwCurrentState values. */
export const STATE = {
  STOPPED: 1, START_PENDING: 2, STOP_PENDING: 3, RUNNING: 4, CONTINUE_PENDING: 5, PAUSE_PENDING: 6, PAUSED: 7,
} as const;

export const STATE_NAMES: Readonly<Record<number, string>> = {
  1: 'STOPPED', 2: 'START_PENDING', 3: 'STOP_PENDING', 4: 'RUNNING', 5: 'CONTINUE_PENDING', 6: 'PAUSE_PENDING', 7: 'PAUSED',
};

export type Win32Result<T> = { ok: true; value: T } | { ok: false; error: number; api: string };

export interface ScmStatus {
  state: number;
  win32ExitCode: number;
  serviceExitCode: number;
  checkpoint: number;
  waitHintMs: number;
  pid: number;
}

function failed(api: string): { ok: false; error: number; api: string } {
  return { ok: false, error: win32().GetLastError() as number, api };
}

function toStatus(s: ServiceStatusProcess): ScmStatus {
  return {
    state: s.dwCurrentState, win32ExitCode: s.dwWin32ExitCode, serviceExitCode: s.dwServiceSpecificExitCode,
    checkpoint: s.dwCheckPoint, waitHintMs: s.dwWaitHint, pid: s.dwProcessId,
  };
}

/** `\\NAME` for a remote server, undefined for this computer. */
export function openManager(server: string | undefined): Win32Result<Win32Handle> {
  const h = win32().OpenSCManagerW(server ?? null, null, SC_MANAGER_CONNECT) as Win32Handle;
  return h ? { ok: true, value: h } : failed('OpenSCManagerW');
}

export function openService(manager: Win32Handle, name: string, access: number): Win32Result<Win32Handle> {
  const h = win32().OpenServiceW(manager, name, access) as Win32Handle;
  return h ? { ok: true, value: h } : failed('OpenServiceW');
}

export function closeHandle(handle: Win32Handle): void {
  if (handle) win32().CloseServiceHandle(handle);
}

export function queryStatus(service: Win32Handle): Win32Result<ScmStatus> {
  const f = win32();
  const out = {} as ServiceStatusProcess;
  const needed = [0];
  if (!f.QueryServiceStatusEx(service, SC_STATUS_PROCESS_INFO, out, f.SERVICE_STATUS_PROCESS_SIZE, needed)) return failed('QueryServiceStatusEx');
  return { ok: true, value: toStatus(out) };
}

const ERROR_INSUFFICIENT_BUFFER = 122;
/** QueryServiceConfigW's buffer may be at most 8 KB (its documentation). */
const MAX_CONFIG_BYTES = 8 * 1024;

/**
 * QueryServiceConfigW: the service's binary path (lpBinaryPathName), the command line the
 * service control manager starts it with. Asked once for the size, then into memory of that
 * size, whose strings koffi decodes.
 */
export function queryBinaryPath(service: Win32Handle): Win32Result<string> {
  const f = win32();
  const needed = [0];
  if (!f.QueryServiceConfigW(service, null, 0, needed)) {
    const error = f.GetLastError() as number;
    if (error !== ERROR_INSUFFICIENT_BUFFER) return { ok: false, error, api: 'QueryServiceConfigW' };
  }
  const size = Math.min(Math.max(needed[0] ?? 0, 64), MAX_CONFIG_BYTES);
  const memory = f.koffi.alloc('uint8_t', size) as unknown;
  try {
    if (!f.QueryServiceConfigW(service, memory, size, needed)) return failed('QueryServiceConfigW');
    const config = f.koffi.decode(memory, f.QUERY_SERVICE_CONFIGW as never) as { lpBinaryPathName: string | null };
    return { ok: true, value: config.lpBinaryPathName ?? '' };
  } finally {
    f.koffi.free(memory);
  }
}

/** ControlService(SERVICE_CONTROL_STOP). */
export function controlStop(service: Win32Handle): Win32Result<void> {
  const out = {};
  if (!win32().ControlService(service, SERVICE_CONTROL_STOP, out)) return failed('ControlService');
  return { ok: true, value: undefined };
}

/**
 * StartServiceW with `args` as lpServiceArgVectors: the service's ServiceMain gets them after its
 * own name, as the Services panel's "Start parameters" box passes them. No command line.
 */
export function startService(service: Win32Handle, args: readonly string[]): Win32Result<void> {
  if (!win32().StartServiceW(service, args.length, args.length ? [...args] : null)) return failed('StartServiceW');
  return { ok: true, value: undefined };
}
