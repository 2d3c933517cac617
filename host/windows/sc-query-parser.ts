import type { ServiceState } from '../types.js';

/*
 * Parses what `sc.exe query <name>` (and `sc.exe stop <name>`, which prints the same block)
 * writes. Windows localizes the field names (German: `TYP`, `STATUS`, `DIENST_EXITCODE`, ...)
 * and the failure texts (`FAILED` becomes `FEHLER`, the explanation is translated), but never
 * the numbers: the state is read from its numeric code (`STATE : 4 RUNNING`), the fields by
 * their English name where present and else by their fixed position, and a failure by its
 * Win32 error number (`[SC] OpenService FAILED 1060:`).
 */

/** The SERVICE_STATUS dwCurrentState values (winsvc.h). */
export const SERVICE_STATE_CODES = {
  1: 'STOPPED',
  2: 'START_PENDING',
  3: 'STOP_PENDING',
  4: 'RUNNING',
  5: 'CONTINUE_PENDING',
  6: 'PAUSE_PENDING',
  7: 'PAUSED',
} as const;

export type ScStateCode = keyof typeof SERVICE_STATE_CODES;
export type ScStateName = (typeof SERVICE_STATE_CODES)[ScStateCode];

/** Win32 error numbers sc.exe reports that the adapter acts on. */
export const WIN32_ERRORS = {
  ACCESS_DENIED: 5,
  DEPENDENT_SERVICES_RUNNING: 1051,
  SERVICE_REQUEST_TIMEOUT: 1053,
  SERVICE_ALREADY_RUNNING: 1056,
  SERVICE_DISABLED: 1058,
  SERVICE_DOES_NOT_EXIST: 1060,
  SERVICE_CANNOT_ACCEPT_CTRL: 1061,
  SERVICE_NOT_ACTIVE: 1062,
  SERVICE_SPECIFIC_ERROR: 1066,
  SERVICE_LOGON_FAILED: 1069,
  SERVICE_MARKED_FOR_DELETE: 1072,
} as const;

export interface ScServiceStatus {
  kind: 'status';
  serviceName: string;
  /** The numeric service type (`TYPE : 10 WIN32_OWN_PROCESS`), when printed. */
  type?: number;
  stateCode: ScStateCode;
  /** The constant's name, derived from the code (never from the localized text). */
  stateName: ScStateName;
  state: ServiceState;
  /** WIN32_EXIT_CODE: 1066 means "see SERVICE_EXIT_CODE". */
  win32ExitCode?: number;
  /** SERVICE_EXIT_CODE: the service's own error number. */
  serviceExitCode?: number;
  checkpoint?: number;
  waitHintMs?: number;
  /** Only `sc.exe queryex` prints it. */
  pid?: number;
}

export interface ScFailure {
  kind: 'failure';
  /** The Win32 call that failed: `OpenService`, `OpenSCManager`, `ControlService`, `StartService`. */
  api: string;
  /** The Win32 error number. */
  error: number;
  /** sc.exe's explanation, in the server's language; for messages only, never matched on. */
  text: string;
}

export type ScResult = ScServiceStatus | ScFailure;

export function serviceStateOf(code: ScStateCode): ServiceState {
  switch (code) {
    case 1: return 'stopped';
    case 2: return 'start-pending';
    case 3: return 'stop-pending';
    case 4: return 'running';
    case 5: case 6: case 7: return 'paused';
  }
}

function lines(text: string): string[] {
  return text.replace(/^\uFEFF/, '').split(/\r\n|\n|\r/);
}

/** `[SC] OpenService FAILED 1060:` / `[SC] EnumQueryServicesStatus:OpenService FEHLER 1060:` */
const FAILURE_LINE = /^\s*\[SC\]\s*(?:[A-Za-z0-9_]+:)*([A-Za-z0-9_]+)\s+\S+\s+(\d+)\s*:?\s*$/;
/** `SERVICE_NAME: MSExchangeKMS` (never localized). */
const NAME_LINE = /^\s*SERVICE_NAME\s*:\s*(.*?)\s*$/;
/** `        STATE              : 4  RUNNING` -> key, value. */
const FIELD_LINE = /^\s+([^\s:][^:]*?)\s*:\s*(.*?)\s*$/;

const ENGLISH_FIELDS = ['TYPE', 'STATE', 'WIN32_EXIT_CODE', 'SERVICE_EXIT_CODE', 'CHECKPOINT', 'WAIT_HINT', 'PID', 'FLAGS'] as const;
type Field = (typeof ENGLISH_FIELDS)[number];

/** A leading number, decimal (`1066  (0x42a)`) or hexadecimal (`0x4e20`). */
function leadingNumber(value: string): number | undefined {
  const match = /^(0x[0-9a-f]+|\d+)\b/i.exec(value.trim());
  if (!match?.[1]) return undefined;
  const n = Number(match[1]);
  return Number.isSafeInteger(n) ? n : undefined;
}

/**
 * Reads a failure line, if the output is one. The explanation is the first non-empty line after it.
 */
export function parseScFailure(output: string): ScFailure | undefined {
  const all = lines(output);
  const index = all.findIndex((line) => FAILURE_LINE.test(line));
  if (index < 0) return undefined;
  const match = FAILURE_LINE.exec(all[index] ?? '');
  if (!match?.[1] || !match[2]) return undefined;
  const text = all.slice(index + 1).map((line) => line.trim()).find((line) => line !== '') ?? '';
  return { kind: 'failure', api: match[1], error: Number(match[2]), text };
}

/**
 * Parses `sc.exe query` / `sc.exe queryex` / `sc.exe stop` output. Returns the failure when sc
 * reported one, else the status block; throws on text that is neither (the caller says what ran).
 */
export function parseScQuery(output: string): ScResult {
  const failure = parseScFailure(output);
  if (failure) return failure;

  const all = lines(output);
  const nameIndex = all.findIndex((line) => NAME_LINE.test(line));
  if (nameIndex < 0) throw new Error('no SERVICE_NAME line and no [SC] error line');
  const serviceName = NAME_LINE.exec(all[nameIndex] ?? '')?.[1] ?? '';

  // The fields in the order sc.exe prints them; a parenthesised flags line (STOPPABLE, ...) has no colon.
  const fields: Array<{ key: string; value: string }> = [];
  for (const line of all.slice(nameIndex + 1)) {
    if (line.trim() === '') {
      if (fields.length > 0) break; // the end of this service's block
      continue;
    }
    const match = FIELD_LINE.exec(line);
    if (match?.[1] !== undefined && match[2] !== undefined) fields.push({ key: match[1].toUpperCase(), value: match[2] });
  }

  const byName = new Map<Field, string>();
  const english = fields.every((f) => (ENGLISH_FIELDS as readonly string[]).includes(f.key));
  if (english) {
    for (const f of fields) byName.set(f.key as Field, f.value);
  } else {
    // Localized names: sc.exe prints TYPE, STATE, WIN32_EXIT_CODE, SERVICE_EXIT_CODE, CHECKPOINT, WAIT_HINT[, PID, FLAGS].
    fields.forEach((f, i) => {
      const name = ENGLISH_FIELDS[i];
      if (name !== undefined) byName.set(name, f.value);
    });
  }

  const stateValue = byName.get('STATE');
  const stateNumber = stateValue === undefined ? undefined : leadingNumber(stateValue);
  if (stateNumber === undefined || !(stateNumber in SERVICE_STATE_CODES)) {
    throw new Error(`no numeric service state (1-7) in the STATE field${stateValue === undefined ? '' : ` "${stateValue}"`}`);
  }
  const stateCode = stateNumber as ScStateCode;
  const result: ScServiceStatus = {
    kind: 'status', serviceName, stateCode, stateName: SERVICE_STATE_CODES[stateCode], state: serviceStateOf(stateCode),
  };
  const number = (field: Field): number | undefined => {
    const value = byName.get(field);
    return value === undefined ? undefined : leadingNumber(value);
  };
  const assign = <K extends 'type' | 'win32ExitCode' | 'serviceExitCode' | 'checkpoint' | 'waitHintMs' | 'pid'>(key: K, field: Field): void => {
    const n = number(field);
    if (n !== undefined) result[key] = n;
  };
  assign('type', 'TYPE');
  assign('win32ExitCode', 'WIN32_EXIT_CODE');
  assign('serviceExitCode', 'SERVICE_EXIT_CODE');
  assign('checkpoint', 'CHECKPOINT');
  assign('waitHintMs', 'WAIT_HINT');
  assign('pid', 'PID');
  return result;
}
