import { createRequire } from 'node:module';
import { KmsRecoverError } from '../../errors/index.js';

/*
 * The Windows API functions the windows adapter calls, bound with koffi (a C FFI whose Windows
 * binary ships in its npm package, @koromix/koffi-win32-x64). Loaded on first use and only on
 * Windows: importing host/windows anywhere else never loads koffi.
 */

type KoffiModule = typeof import('koffi');
type KoffiFunction = ReturnType<ReturnType<KoffiModule['load']>['func']>;

/** An opaque Windows handle (SC_HANDLE, event log HANDLE): koffi's pointer object, or null. */
export type Win32Handle = object | null;

/** SERVICE_STATUS_PROCESS as QueryServiceStatusEx fills it. */
export interface ServiceStatusProcess {
  dwServiceType: number;
  dwCurrentState: number;
  dwControlsAccepted: number;
  dwWin32ExitCode: number;
  dwServiceSpecificExitCode: number;
  dwCheckPoint: number;
  dwWaitHint: number;
  dwProcessId: number;
  dwServiceFlags: number;
}

export interface Win32Functions {
  koffi: KoffiModule;
  OpenSCManagerW: KoffiFunction;
  OpenServiceW: KoffiFunction;
  CloseServiceHandle: KoffiFunction;
  QueryServiceStatusEx: KoffiFunction;
  ControlService: KoffiFunction;
  StartServiceW: KoffiFunction;
  OpenEventLogW: KoffiFunction;
  ReadEventLogW: KoffiFunction;
  CloseEventLog: KoffiFunction;
  GetFileAttributesW: KoffiFunction;
  GetComputerNameExW: KoffiFunction;
  GetLastError: KoffiFunction;
  SERVICE_STATUS_PROCESS_SIZE: number;
  SERVICE_STATUS_SIZE: number;
}

let loaded: Win32Functions | undefined;

function bind(koffi: KoffiModule): Win32Functions {
  const advapi32 = koffi.load('advapi32.dll');
  const kernel32 = koffi.load('kernel32.dll');
  const u32 = 'uint32_t';
  const statusProcess = koffi.struct('KMS_SERVICE_STATUS_PROCESS', {
    dwServiceType: u32, dwCurrentState: u32, dwControlsAccepted: u32, dwWin32ExitCode: u32,
    dwServiceSpecificExitCode: u32, dwCheckPoint: u32, dwWaitHint: u32, dwProcessId: u32, dwServiceFlags: u32,
  });
  const status = koffi.struct('KMS_SERVICE_STATUS', {
    dwServiceType: u32, dwCurrentState: u32, dwControlsAccepted: u32, dwWin32ExitCode: u32,
    dwServiceSpecificExitCode: u32, dwCheckPoint: u32, dwWaitHint: u32,
  });
  const handle = koffi.pointer('KMS_HANDLE', koffi.opaque());
  const std = '__stdcall';
  return {
    koffi,
    OpenSCManagerW: advapi32.func(std, 'OpenSCManagerW', handle, ['str16', 'str16', u32]),
    OpenServiceW: advapi32.func(std, 'OpenServiceW', handle, [handle, 'str16', u32]),
    CloseServiceHandle: advapi32.func(std, 'CloseServiceHandle', 'bool', [handle]),
    QueryServiceStatusEx: advapi32.func(std, 'QueryServiceStatusEx', 'bool',
      [handle, 'int', koffi.out(koffi.pointer(statusProcess)), u32, koffi.out(koffi.pointer(u32))]),
    ControlService: advapi32.func(std, 'ControlService', 'bool', [handle, u32, koffi.out(koffi.pointer(status))]),
    StartServiceW: advapi32.func(std, 'StartServiceW', 'bool', [handle, u32, koffi.pointer('str16')]),
    OpenEventLogW: advapi32.func(std, 'OpenEventLogW', handle, ['str16', 'str16']),
    ReadEventLogW: advapi32.func(std, 'ReadEventLogW', 'bool',
      [handle, u32, u32, koffi.out('void *'), u32, koffi.out(koffi.pointer(u32)), koffi.out(koffi.pointer(u32))]),
    CloseEventLog: advapi32.func(std, 'CloseEventLog', 'bool', [handle]),
    GetFileAttributesW: kernel32.func(std, 'GetFileAttributesW', u32, ['str16']),
    GetComputerNameExW: kernel32.func(std, 'GetComputerNameExW', 'bool', ['int', koffi.out('void *'), koffi.inout(koffi.pointer(u32))]),
    GetLastError: kernel32.func(std, 'GetLastError', u32, []),
    SERVICE_STATUS_PROCESS_SIZE: koffi.sizeof(statusProcess),
    SERVICE_STATUS_SIZE: koffi.sizeof(status),
  };
}

/** The bound functions; loads koffi the first time. Refused anywhere but Windows. */
export function win32(platform: NodeJS.Platform = process.platform): Win32Functions {
  if (loaded) return loaded;
  if (platform !== 'win32') {
    throw new KmsRecoverError('ADAPTER_UNSUPPORTED', `the windows adapter calls the Windows API; this is ${platform}`, { platform });
  }
  let koffi: KoffiModule;
  try {
    koffi = createRequire(import.meta.url)('koffi') as KoffiModule;
  } catch (error) {
    throw new KmsRecoverError('ADAPTER_UNSUPPORTED',
      `cannot load koffi, the Windows API binding (${(error as Error).message.split('\n')[0]}): run npm ci in the kms-recover folder`,
      { platform }, { cause: error });
  }
  loaded = bind(koffi);
  return loaded;
}

/** Whether koffi has been loaded in this process (tests: importing host/windows must not load it). */
export function win32Loaded(): boolean {
  return loaded !== undefined;
}
