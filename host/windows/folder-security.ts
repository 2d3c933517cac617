import { KmsRecoverError } from '../../errors/index.js';
import { win32 } from './win32-ffi.js';

/*
 * A restored Kmsdata keeps the permissions of the Kmsdata it replaces: the staging copy gets
 * the Kmsdata folder's DACL (GetNamedSecurityInfoW -> SetNamedSecurityInfoW) before it is
 * renamed into place. The Kmsdata folder itself is never moved by the clear (only its entries
 * are), so its security descriptor is there to be read until the promotion. SetNamedSecurityInfoW
 * gives the folder's inheritable entries to the files and folders inside it.
 */

const SE_FILE_OBJECT = 1;
const DACL_SECURITY_INFORMATION = 0x00000004;
const PROTECTED_DACL_SECURITY_INFORMATION = 0x80000000;
const UNPROTECTED_DACL_SECURITY_INFORMATION = 0x20000000;
const SE_DACL_PROTECTED = 0x1000;
const SDDL_REVISION_1 = 1;

type Fn = (...args: unknown[]) => unknown;
interface SecurityApi {
  GetNamedSecurityInfoW: Fn;
  SetNamedSecurityInfoW: Fn;
  GetSecurityDescriptorControl: Fn;
  ConvertSecurityDescriptorToStringSecurityDescriptorW: Fn;
  LocalFree: Fn;
  decodeString: (pointer: unknown) => string;
}

let bound: SecurityApi | undefined;

function api(): SecurityApi {
  if (bound) return bound;
  const { koffi } = win32();
  const advapi32 = koffi.load('advapi32.dll');
  const kernel32 = koffi.load('kernel32.dll');
  const std = '__stdcall';
  const out = koffi.out(koffi.pointer('void *'));
  bound = {
    GetNamedSecurityInfoW: advapi32.func(std, 'GetNamedSecurityInfoW', 'uint32_t', ['str16', 'int', 'uint32_t', out, out, out, out, out]) as Fn,
    SetNamedSecurityInfoW: advapi32.func(std, 'SetNamedSecurityInfoW', 'uint32_t', ['str16', 'int', 'uint32_t', 'void *', 'void *', 'void *', 'void *']) as Fn,
    GetSecurityDescriptorControl: advapi32.func(std, 'GetSecurityDescriptorControl', 'bool', ['void *', koffi.out(koffi.pointer('uint16_t')), koffi.out(koffi.pointer('uint32_t'))]) as Fn,
    ConvertSecurityDescriptorToStringSecurityDescriptorW: advapi32.func(std, 'ConvertSecurityDescriptorToStringSecurityDescriptorW', 'bool',
      ['void *', 'uint32_t', 'uint32_t', out, koffi.out(koffi.pointer('uint32_t'))]) as Fn,
    LocalFree: kernel32.func(std, 'LocalFree', 'void *', ['void *']) as Fn,
    decodeString: (pointer) => koffi.decode(pointer, 'char16_t', -1) as string,
  };
  return bound;
}

function failed(api: string, error: number, folder: string): KmsRecoverError {
  return new KmsRecoverError(error === 5 ? 'ACCESS_DENIED' : 'STEP_FAILED',
    `cannot ${api.startsWith('Set') ? 'give' : 'read'} the permissions of ${folder} (${api} error ${error}): run kms-recover as an administrator, then run kms-recover resume`,
    { folder, api, win32Error: error });
}

/** Runs `use` with the folder's security descriptor (its DACL), freed afterwards. */
function withDacl<T>(folder: string, use: (dacl: unknown, descriptor: unknown) => T): T {
  const f = api();
  const dacl: unknown[] = [null];
  const descriptor: unknown[] = [null];
  const error = f.GetNamedSecurityInfoW(folder, SE_FILE_OBJECT, DACL_SECURITY_INFORMATION, null, null, dacl, null, descriptor) as number;
  if (error !== 0) throw failed('GetNamedSecurityInfoW', error, folder);
  try {
    return use(dacl[0], descriptor[0]);
  } finally {
    f.LocalFree(descriptor[0]);
  }
}

/** Gives `to` the DACL of `from` (protected from inheritance if it was), passed on to what `to` holds. */
export function copyFolderDacl(from: string, to: string): void {
  const f = api();
  withDacl(from, (dacl, descriptor) => {
    const control = [0];
    const revision = [0];
    const isProtected = Boolean(f.GetSecurityDescriptorControl(descriptor, control, revision)) && ((control[0] ?? 0) & SE_DACL_PROTECTED) !== 0;
    const info = DACL_SECURITY_INFORMATION | (isProtected ? PROTECTED_DACL_SECURITY_INFORMATION : UNPROTECTED_DACL_SECURITY_INFORMATION);
    const error = f.SetNamedSecurityInfoW(to, SE_FILE_OBJECT, info >>> 0, null, null, dacl, null) as number;
    if (error !== 0) throw failed('SetNamedSecurityInfoW', error, to);
  });
}

/** The folder's (or file's) DACL in SDDL (`D:P(A;OICI;FA;;;BA)...`): what the tests compare and the lane reports. */
export function daclSddl(target: string): string {
  const f = api();
  return withDacl(target, (_dacl, descriptor) => {
    const text: unknown[] = [null];
    const length = [0];
    if (!f.ConvertSecurityDescriptorToStringSecurityDescriptorW(descriptor, SDDL_REVISION_1, DACL_SECURITY_INFORMATION, text, length)) {
      throw failed('ConvertSecurityDescriptorToStringSecurityDescriptorW', win32().GetLastError() as number, target);
    }
    try {
      return f.decodeString(text[0]);
    } finally {
      f.LocalFree(text[0]);
    }
  });
}
