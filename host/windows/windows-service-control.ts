import { setTimeout as sleep } from 'node:timers/promises';
import { KmsRecoverError } from '../../errors/index.js';
import type { ServiceControl, ServiceExit, ServiceState, ServiceStatus } from '../types.js';
import { describeEvents, readServiceEvents } from './event-log.js';
import type { ServiceEvent } from './event-log-records.js';
import {
  closeHandle, controlStop, openManager, openService, queryStatus, SERVICE_QUERY_STATUS, SERVICE_START, SERVICE_STOP,
  startService, STATE, STATE_NAMES, type ScmStatus, type Win32Result,
} from './scm-api.js';
import type { Win32Handle } from './win32-ffi.js';
import { ERROR_SERVICE_SPECIFIC_ERROR, win32Error, type Win32Operation } from './win32-errors.js';

export interface WindowsServiceControlOptions {
  /** Drive the service control manager of this server (`NAME` or `\\NAME`); default this computer. */
  server?: string;
  /** How long a stop may stay STOP_PENDING (default 120 s). */
  stopTimeoutMs?: number;
  /** How long a start may stay START_PENDING (default 120 s). */
  startTimeoutMs?: number;
  /** Poll interval while waiting for a state (default 500 ms). */
  pollMs?: number;
  /**
   * What makes a failed start ALPHA_REJECTED. Default: SERVICE_EXIT_CODE 1 with WIN32_EXIT_CODE
   * 1066, the "service specific error 1" of KB Q151689. `serviceExitCodes: []` turns it off.
   */
  alphaRejected?: { serviceExitCodes?: readonly number[]; eventIds?: readonly number[] };
  /** Where the Application-log events of a failed start come from (default: ReadEventLogW). */
  readEvents?: (source: string, since: Date, server?: string) => ServiceEvent[];
}

const ERROR_SERVICE_DOES_NOT_EXIST = 1060;
const ERROR_SERVICE_CANNOT_ACCEPT_CTRL = 1061;
const ERROR_SERVICE_NOT_ACTIVE = 1062;
const ERROR_SERVICE_ALREADY_RUNNING = 1056;
const PENDING: ReadonlySet<number> = new Set([STATE.START_PENDING, STATE.STOP_PENDING, STATE.CONTINUE_PENDING, STATE.PAUSE_PENDING]);

function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}

/** `\\NAME` from `NAME` or `\\NAME`; undefined for this computer. */
export function uncServer(server: string | undefined): string | undefined {
  if (server === undefined || server === '') return undefined;
  return `\\\\${server.replace(/^\\\\/, '')}`;
}

function stateOf(code: number): ServiceState {
  switch (code) {
    case STATE.STOPPED: return 'stopped';
    case STATE.START_PENDING:
    case STATE.CONTINUE_PENDING: return 'start-pending';
    case STATE.STOP_PENDING: return 'stop-pending';
    case STATE.RUNNING: return 'running';
    default: return 'paused';
  }
}

/** `service specific error 1 (WIN32_EXIT_CODE 1066, SERVICE_EXIT_CODE 1)` or `Windows error 1064 (WIN32_EXIT_CODE 1064)`. */
export function describeExitCodes(status: Pick<ScmStatus, 'win32ExitCode' | 'serviceExitCode'>): string | undefined {
  const { win32ExitCode: win32, serviceExitCode: specific } = status;
  if (win32 === ERROR_SERVICE_SPECIFIC_ERROR) {
    return `service specific error ${specific} (WIN32_EXIT_CODE 1066, SERVICE_EXIT_CODE ${specific})`;
  }
  if (win32 !== 0) return `Windows error ${win32} (WIN32_EXIT_CODE ${win32})`;
  return undefined;
}

/** An open service: its handles, closed by `close`. */
interface Opened {
  manager: Win32Handle;
  service: Win32Handle;
}

/**
 * ServiceControl through the service control manager's API (OpenSCManagerW, OpenServiceW,
 * QueryServiceStatusEx, ControlService, StartServiceW), on this computer or on `server`. No
 * child process, no command line, no text to parse; every wait polls with a deadline.
 */
export class WindowsServiceControl implements ServiceControl {
  readonly server: string | undefined;
  private readonly stopTimeoutMs: number;
  private readonly startTimeoutMs: number;
  private readonly pollMs: number;
  private readonly rejectedExitCodes: ReadonlySet<number>;
  private readonly rejectedEventIds: ReadonlySet<number>;
  private readonly readEvents: NonNullable<WindowsServiceControlOptions['readEvents']>;

  constructor(options: WindowsServiceControlOptions = {}) {
    this.server = uncServer(options.server);
    this.stopTimeoutMs = options.stopTimeoutMs ?? 120_000;
    this.startTimeoutMs = options.startTimeoutMs ?? 120_000;
    this.pollMs = options.pollMs ?? 500;
    this.rejectedExitCodes = new Set(options.alphaRejected?.serviceExitCodes ?? [1]);
    this.rejectedEventIds = new Set(options.alphaRejected?.eventIds ?? []);
    this.readEvents = options.readEvents ?? readServiceEvents;
  }

  async queryService(name: string): Promise<ServiceStatus> {
    const opened = this.open(name, SERVICE_QUERY_STATUS, 'query', true);
    if (opened === undefined) return { name, state: 'missing' };
    try {
      return toServiceStatus(name, this.query(opened, name, 'query'));
    } finally {
      close(opened);
    }
  }

  /** The exit codes QueryServiceStatusEx reports for a stopped service (undefined while it runs or is missing). */
  async lastExit(name: string): Promise<ServiceExit | undefined> {
    const opened = this.open(name, SERVICE_QUERY_STATUS, 'query', true);
    if (opened === undefined) return undefined;
    try {
      const status = this.query(opened, name, 'query');
      return status.state === STATE.STOPPED ? { win32ExitCode: status.win32ExitCode, serviceExitCode: status.serviceExitCode } : undefined;
    } finally {
      close(opened);
    }
  }

  async stopService(name: string): Promise<ServiceStatus> {
    const deadline = Date.now() + this.stopTimeoutMs;
    const opened = this.open(name, SERVICE_QUERY_STATUS | SERVICE_STOP, 'stop')!;
    try {
      let status = this.query(opened, name, 'stop');
      if (PENDING.has(status.state) && status.state !== STATE.STOP_PENDING) {
        status = await this.waitWhile(opened, name, (s) => PENDING.has(s.state) && s.state !== STATE.STOP_PENDING, deadline, 'stop');
      }
      if (status.state === STATE.STOPPED) return toServiceStatus(name, status);
      if (status.state !== STATE.STOP_PENDING) {
        const sent = controlStop(opened.service);
        // 1062: it stopped meanwhile; 1061: it is changing state. Both: wait below.
        if (!sent.ok && sent.error !== ERROR_SERVICE_NOT_ACTIVE && sent.error !== ERROR_SERVICE_CANNOT_ACCEPT_CTRL) {
          throw win32Error(sent.error, this.ctx('stop', sent.api, name));
        }
      }
      return toServiceStatus(name, await this.waitWhile(opened, name, (s) => s.state !== STATE.STOPPED, deadline, 'stop'));
    } finally {
      close(opened);
    }
  }

  async startService(name: string, startParameters: readonly string[]): Promise<ServiceStatus> {
    const alpha = startParameters[0];
    if (!alpha) throw new KmsRecoverError('SERVICE_START_FAILED', 'the KMS needs its alpha string as start parameter', { service: name });
    if (startParameters.length !== 1 || /[\r\n\0]/.test(alpha)) {
      throw new KmsRecoverError('SERVICE_START_FAILED', 'the KMS takes exactly one start parameter, its alpha string, on one line', { service: name });
    }
    const deadline = Date.now() + this.startTimeoutMs;
    const opened = this.open(name, SERVICE_QUERY_STATUS | SERVICE_START, 'start')!;
    try {
      let status = this.query(opened, name, 'start');
      if (PENDING.has(status.state)) status = await this.waitWhile(opened, name, (s) => PENDING.has(s.state), deadline, 'start');
      if (status.state === STATE.RUNNING) return toServiceStatus(name, status);
      if (status.state === STATE.PAUSED) {
        throw new KmsRecoverError('SERVICE_START_FAILED',
          `${this.named(name)} is PAUSED, not stopped: stop it (Services panel), then run kms-recover resume`, { service: name, server: this.server, state: 'PAUSED' });
      }
      // The Application log's clock is the server's: look a little further back than our own.
      const since = new Date(Date.now() - 5000);
      const started = startService(opened.service, [alpha]);
      if (!started.ok) {
        if (started.error === ERROR_SERVICE_ALREADY_RUNNING) {
          const now = this.query(opened, name, 'start');
          if (now.state === STATE.RUNNING || now.state === STATE.START_PENDING) {
            return toServiceStatus(name, await this.waitWhile(opened, name, (s) => s.state === STATE.START_PENDING, deadline, 'start'));
          }
        }
        throw win32Error(started.error, this.ctx('start', started.api, name));
      }
      const final = await this.waitWhile(opened, name, (s) => s.state === STATE.START_PENDING, deadline, 'start');
      if (final.state === STATE.RUNNING) return toServiceStatus(name, final);
      if (final.state === STATE.STOPPED) return this.startFailed(name, final, since, alpha);
      throw new KmsRecoverError('SERVICE_START_FAILED',
        `${this.named(name)} went ${STATE_NAMES[final.state] ?? final.state} instead of RUNNING during its start: check it in the Services panel, then run kms-recover resume`,
        { service: name, server: this.server, state: STATE_NAMES[final.state] });
    } finally {
      close(opened);
    }
  }

  /** It took its start parameter, then stopped: the KMS's own failure, with its exit codes and events. */
  private startFailed(name: string, status: ScmStatus, since: Date, alpha: string): never {
    const exit = describeExitCodes(status);
    // Whatever a service writes to the log, the alpha string does not go further from here.
    const events = this.readEvents(name, since, this.server)
      .map((e) => ({ ...e, strings: e.strings.map((text) => text.split(alpha).join('[alpha string]')) }));
    const eventText = describeEvents(events);
    const detail = {
      service: name, server: this.server, state: 'STOPPED', win32ExitCode: status.win32ExitCode, serviceExitCode: status.serviceExitCode,
      events: events.map((e) => ({ id: e.id, type: e.type, strings: e.strings })),
    };
    const logged = eventText ? `; the Application log says: ${eventText}` : '';
    const specific = status.win32ExitCode === ERROR_SERVICE_SPECIFIC_ERROR ? status.serviceExitCode : undefined;
    const rejected = (specific !== undefined && this.rejectedExitCodes.has(specific)) || events.some((e) => this.rejectedEventIds.has(e.id));
    if (rejected) {
      throw new KmsRecoverError('ALPHA_REJECTED',
        `${this.named(name)} stopped during its start with ${exit ?? 'no exit code'}${logged}. KB Q151689 gives two causes: `
        + 'the alpha string is wrong or missing (it must be the ORIGINAL server\'s, from its startup disk), '
        + 'or the service\'s Log On account is wrong; check both, then run kms-recover resume',
        detail);
    }
    throw new KmsRecoverError('SERVICE_START_FAILED',
      `${this.named(name)} stopped during its start after reading its start parameter: ${exit ?? 'no exit code reported'}${logged}. `
      + 'Check the Application log and the Services panel, then run kms-recover resume',
      detail);
  }

  private named(name: string): string {
    return this.server ? `${name} on ${this.server}` : name;
  }

  private ctx(op: Win32Operation, api: string, service: string): { op: Win32Operation; api: string; service: string; server?: string } {
    return this.server ? { op, api, service, server: this.server } : { op, api, service };
  }

  /** Open the manager and the service; undefined when `missingOk` and the service is not installed. */
  private open(name: string, access: number, op: Win32Operation, missingOk = false): Opened | undefined {
    const manager = openManager(this.server);
    if (!manager.ok) throw win32Error(manager.error, this.ctx('connect', manager.api, name));
    const service = openService(manager.value, name, access);
    if (!service.ok) {
      closeHandle(manager.value);
      if (service.error === ERROR_SERVICE_DOES_NOT_EXIST && missingOk) return undefined;
      throw win32Error(service.error, this.ctx(op, service.api, name));
    }
    return { manager: manager.value, service: service.value };
  }

  private query(opened: Opened, name: string, op: Win32Operation): ScmStatus {
    const result: Win32Result<ScmStatus> = queryStatus(opened.service);
    if (!result.ok) throw win32Error(result.error, this.ctx(op, result.api, name));
    return result.value;
  }

  private async waitWhile(opened: Opened, name: string, waiting: (s: ScmStatus) => boolean, deadline: number, what: 'stop' | 'start'): Promise<ScmStatus> {
    let status = this.query(opened, name, what);
    while (waiting(status)) {
      if (Date.now() >= deadline) {
        const timeout = what === 'stop' ? this.stopTimeoutMs : this.startTimeoutMs;
        const stateName = STATE_NAMES[status.state] ?? String(status.state);
        const detail = { service: name, server: this.server, state: stateName, checkpoint: status.checkpoint, waitHintMs: status.waitHintMs };
        if (what === 'stop' && status.state === STATE.STOP_PENDING) {
          throw new KmsRecoverError('SERVICE_STOP_FAILED',
            `${this.named(name)} is still STOP_PENDING after ${seconds(timeout)} (checkpoint ${status.checkpoint}): the service hangs while stopping; end its process${status.pid ? ` (PID ${status.pid})` : ''} with Task Manager or taskkill /PID <pid> /F${this.server ? ` /S ${this.server.slice(2)}` : ''}, then run kms-recover resume`,
            { ...detail, pid: status.pid || undefined });
        }
        throw new KmsRecoverError(what === 'stop' ? 'SERVICE_STOP_FAILED' : 'SERVICE_START_FAILED',
          `${this.named(name)} is still ${stateName} after ${seconds(timeout)}: check it in the Services panel, then run kms-recover resume`,
          detail);
      }
      await sleep(Math.max(0, Math.min(this.pollMs, deadline - Date.now())));
      status = this.query(opened, name, what);
    }
    return status;
  }
}

function close(opened: Opened): void {
  closeHandle(opened.service);
  closeHandle(opened.manager);
}

function toServiceStatus(name: string, status: ScmStatus): ServiceStatus {
  const result: ServiceStatus = { name, state: stateOf(status.state) };
  if (status.pid > 0 && status.state !== STATE.STOPPED) result.pid = status.pid;
  return result;
}
