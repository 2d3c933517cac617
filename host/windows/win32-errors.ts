import { KmsRecoverError, type ErrorCode } from '../../errors/index.js';

/**
 * The one table from the Windows error numbers the service control manager and the admin share
 * answer with to the tool's error codes, and what each tells the administrator to do. Every
 * Win32 failure of the windows adapter goes through `win32Error`; nothing else maps numbers.
 */

export const ELEVATE = 'run kms-recover from an elevated prompt (Run as administrator) as a member of the server\'s Administrators group';

/** The operation that failed, for the message and for the code where it depends on it. */
export type Win32Operation = 'connect' | 'query' | 'stop' | 'start' | 'share';

interface Win32Entry {
  name: string;
  /** The tool's code; a function where it depends on the operation. */
  code: ErrorCode | ((op: Win32Operation) => ErrorCode);
  /** What it means and what to do, as one clause (service name and server filled in). */
  text: (t: { service: string; server: string }) => string;
}

const stepCode = (op: Win32Operation): ErrorCode =>
  op === 'stop' ? 'SERVICE_STOP_FAILED' : op === 'start' ? 'SERVICE_START_FAILED' : 'STEP_FAILED';

const SMB1_HINT = 'if it runs Windows NT 4.0 or Windows 2000, it speaks only SMB 1: turn on the "SMB 1.0/CIFS Client" Windows feature on this workstation';

const noRoute = (t: { server: string }): string =>
  `no route to ${t.server}: check the name (DNS or WINS), that it is on, and that File and Printer Sharing and the RPC ports are open to this workstation; ${SMB1_HINT}`;

export const WIN32_TABLE: Readonly<Record<number, Win32Entry>> = {
  5: { name: 'ERROR_ACCESS_DENIED', code: 'SERVICE_ACCESS_DENIED', text: () => `access denied: ${ELEVATE}` },
  53: { name: 'ERROR_BAD_NETPATH', code: 'SERVER_UNREACHABLE', text: noRoute },
  64: { name: 'ERROR_NETNAME_DELETED', code: 'SERVER_UNREACHABLE', text: (t) => `${t.server} dropped the connection; ${SMB1_HINT}` },
  67: { name: 'ERROR_BAD_NET_NAME', code: 'SERVER_UNREACHABLE', text: (t) => `${t.server} has no such share: its administrative shares (C$, D$, ...) are turned off or the drive letter is wrong` },
  1051: { name: 'ERROR_DEPENDENT_SERVICES_RUNNING', code: stepCode, text: (t) => `services that depend on ${t.service} still run: stop them first, then run kms-recover resume` },
  1053: { name: 'ERROR_SERVICE_REQUEST_TIMEOUT', code: stepCode, text: (t) => `${t.service} did not answer the service control manager in time: check it in the Services panel and the Application log, then run kms-recover resume` },
  1055: { name: 'ERROR_SERVICE_DATABASE_LOCKED', code: stepCode, text: () => 'the service database is locked (another program is changing services): wait, then run kms-recover resume' },
  1056: { name: 'ERROR_SERVICE_ALREADY_RUNNING', code: 'SERVICE_START_FAILED', text: (t) => `${t.service} is already running` },
  1058: { name: 'ERROR_SERVICE_DISABLED', code: 'SERVICE_START_FAILED', text: (t) => `${t.service} is disabled: set its startup type to Manual (Services panel, or sc.exe ${t.server.startsWith('\\\\') ? `${t.server} ` : ''}config ${t.service} start= demand), then run kms-recover resume` },
  1060: { name: 'ERROR_SERVICE_DOES_NOT_EXIST', code: 'SERVICE_MISSING', text: (t) => `the service ${t.service} is not installed: reinstall Exchange Server, its service packs and Key Management Server first (KB step 1)` },
  1061: { name: 'ERROR_SERVICE_CANNOT_ACCEPT_CTRL', code: stepCode, text: (t) => `${t.service} cannot accept the request now (it is changing state): wait, then run kms-recover resume` },
  1062: { name: 'ERROR_SERVICE_NOT_ACTIVE', code: stepCode, text: (t) => `${t.service} is not running` },
  1068: { name: 'ERROR_SERVICE_DEPENDENCY_FAIL', code: 'SERVICE_START_FAILED', text: (t) => `a service ${t.service} depends on did not start: start the Exchange services it needs (System Attendant), then run kms-recover resume` },
  1069: { name: 'ERROR_SERVICE_LOGON_FAILED', code: 'SERVICE_START_FAILED', text: (t) => `the service account of ${t.service} could not log on: give it the account and password the Exchange services use (Services panel, Log On tab), then run kms-recover resume` },
  1072: { name: 'ERROR_SERVICE_MARKED_FOR_DELETE', code: stepCode, text: (t) => `${t.service} is marked for deletion: restart the server, reinstall Key Management Server, then run kms-recover resume` },
  1115: { name: 'ERROR_SHUTDOWN_IN_PROGRESS', code: stepCode, text: (t) => `${t.server} is shutting down: wait until it is up again, then run kms-recover resume` },
  1231: { name: 'ERROR_NETWORK_UNREACHABLE', code: 'SERVER_UNREACHABLE', text: noRoute },
  1232: { name: 'ERROR_HOST_UNREACHABLE', code: 'SERVER_UNREACHABLE', text: noRoute },
  1326: { name: 'ERROR_LOGON_FAILURE', code: 'SERVICE_ACCESS_DENIED', text: (t) => `${t.server} does not accept this workstation's logon: log on with (or net use \\\\${t.server.replace(/^\\\\/, '')}\\IPC$ /user:DOMAIN\\name) an account that is an administrator of that server` },
  1722: { name: 'RPC_S_SERVER_UNAVAILABLE', code: 'SERVER_UNREACHABLE', text: noRoute },
  1726: { name: 'RPC_S_CALL_FAILED', code: 'SERVER_UNREACHABLE', text: (t) => `the call to ${t.server} failed on the network: check the connection, then run kms-recover resume` },
};

/** Exit codes a service reports in WIN32_EXIT_CODE, named for messages. */
export const ERROR_SERVICE_SPECIFIC_ERROR = 1066;

export interface Win32Context {
  op: Win32Operation;
  /** The Windows API that failed, e.g. `OpenServiceW`. */
  api: string;
  service: string;
  /** `\\NAME`, or undefined for this computer. */
  server?: string;
}

/** The name of a Windows error number, e.g. `ERROR_SERVICE_DISABLED`, where the table knows it. */
export function win32Name(error: number): string | undefined {
  return WIN32_TABLE[error]?.name;
}

const OP_TEXT: Record<Win32Operation, string> = {
  connect: 'connecting to the service control manager of',
  query: 'querying',
  stop: 'stopping',
  start: 'starting',
  share: 'reaching the admin share of',
};

/** The KmsRecoverError for `error` (a GetLastError number) met doing `ctx.op`. */
export function win32Error(error: number, ctx: Win32Context): KmsRecoverError {
  const server = ctx.server ?? 'this computer';
  const entry = WIN32_TABLE[error];
  const target = ctx.op === 'connect' || ctx.op === 'share' ? server : ctx.server ? `${ctx.service} on ${ctx.server}` : ctx.service;
  const detail = { service: ctx.service, server: ctx.server, api: ctx.api, win32Error: error, win32Name: entry?.name };
  const said = `${ctx.api} error ${error}${entry ? ` ${entry.name}` : ''}`;
  if (!entry) {
    // Not reaching the server at all is SERVER_UNREACHABLE whatever the number.
    if (ctx.op === 'connect' || ctx.op === 'share') {
      return new KmsRecoverError('SERVER_UNREACHABLE', `${OP_TEXT[ctx.op]} ${target} failed (${said}): ${noRoute({ server })}`, detail);
    }
    return new KmsRecoverError(stepCode(ctx.op), `${OP_TEXT[ctx.op]} ${target} failed (${said}); find its cause, then run kms-recover resume`, detail);
  }
  const code = typeof entry.code === 'function' ? entry.code(ctx.op) : entry.code;
  return new KmsRecoverError(code, `${OP_TEXT[ctx.op]} ${target} failed (${said}): ${entry.text({ service: ctx.service, server })}`, detail);
}
