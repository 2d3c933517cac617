import { setTimeout as sleep } from 'node:timers/promises';
import { KmsRecoverError, type ErrorCode } from '../../errors/index.js';
import type { ServiceControl, ServiceStatus } from '../types.js';
import { buildStartInput, buildStartScript, parseStartResult, type ServiceEvent, type StartScriptResult } from './powershell-start.js';
import { ProcessStartError, runProcess, type ProcessResult } from './run-process.js';
import { powershellArgs, resolveWindowsTools, scQueryArgs, scStopArgs, type WindowsTools } from './sc-commands.js';
import { parseScQuery, WIN32_ERRORS, type ScFailure, type ScServiceStatus } from './sc-query-parser.js';

export interface WindowsServiceControlOptions {
  /** The programs to run (default: the real ones under %SystemRoot%\System32; see resolveWindowsTools). */
  tools?: WindowsTools;
  /** A folder holding stand-in `sc.exe` and `powershell.exe` (tests). Ignored when `tools` is given. */
  toolDirectory?: string;
  /** How long a stop may stay STOP_PENDING (default 120 s). */
  stopTimeoutMs?: number;
  /** How long a start may stay START_PENDING (default 120 s). */
  startTimeoutMs?: number;
  /** Poll interval while waiting for a state (default 500 ms). */
  pollMs?: number;
  /** Kill an sc.exe that has not answered after this long (default 30 s). */
  commandTimeoutMs?: number;
  /**
   * What tells a rejected alpha string apart from other start failures. Empty by default: no
   * published source gives the Exchange 5.5 KMS's exit code or event ID for a wrong startup
   * password (README, "Recovering a real server"). A site that has seen its own KMS reject a
   * password can list the SERVICE_EXIT_CODE or Application-log event ID here.
   */
  alphaRejected?: { serviceExitCodes?: readonly number[]; eventIds?: readonly number[] };
  env?: NodeJS.ProcessEnv;
}

type Queried = ScServiceStatus | { kind: 'missing' };

const PENDING = new Set([2, 3, 5, 6]);
const ELEVATE = 'run kms-recover from an elevated prompt (Run as administrator) as a member of the server\'s Administrators group';

function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}

function firstLine(text: string): string {
  return text.split(/\r\n|\n|\r/).map((l) => l.trim()).find((l) => l !== '') ?? '';
}

/** `service specific error 1 (WIN32_EXIT_CODE 1066, SERVICE_EXIT_CODE 1)` or `Windows error 1053`. */
export function describeExitCodes(status: Pick<ScServiceStatus, 'win32ExitCode' | 'serviceExitCode'>): string | undefined {
  const { win32ExitCode: win32, serviceExitCode: specific } = status;
  if (win32 === WIN32_ERRORS.SERVICE_SPECIFIC_ERROR) {
    return `service specific error ${specific ?? '?'} (WIN32_EXIT_CODE 1066, SERVICE_EXIT_CODE ${specific ?? '?'})`;
  }
  if (win32 !== undefined && win32 !== 0) return `Windows error ${win32} (WIN32_EXIT_CODE ${win32})`;
  return undefined;
}

function describeEvents(events: readonly ServiceEvent[]): string | undefined {
  if (events.length === 0) return undefined;
  return events.map((e) => `event ${e.id}${e.message ? ` "${e.message}"` : ''}`).join(', ');
}

/**
 * ServiceControl for a real Windows server: `sc.exe query` and `sc.exe stop` (their output
 * parsed by numbers, so a localized Windows works), and PowerShell's ServiceController for the
 * start, with the alpha string on standard input. Every wait polls `sc.exe query` with a deadline.
 */
export class WindowsServiceControl implements ServiceControl {
  readonly tools: WindowsTools;
  private readonly stopTimeoutMs: number;
  private readonly startTimeoutMs: number;
  private readonly pollMs: number;
  private readonly commandTimeoutMs: number;
  private readonly rejectedExitCodes: ReadonlySet<number>;
  private readonly rejectedEventIds: ReadonlySet<number>;
  private readonly env: NodeJS.ProcessEnv | undefined;

  constructor(options: WindowsServiceControlOptions = {}) {
    this.tools = options.tools ?? resolveWindowsTools({ toolDirectory: options.toolDirectory, env: options.env });
    this.stopTimeoutMs = options.stopTimeoutMs ?? 120_000;
    this.startTimeoutMs = options.startTimeoutMs ?? 120_000;
    this.pollMs = options.pollMs ?? 500;
    this.commandTimeoutMs = options.commandTimeoutMs ?? 30_000;
    this.rejectedExitCodes = new Set(options.alphaRejected?.serviceExitCodes ?? []);
    this.rejectedEventIds = new Set(options.alphaRejected?.eventIds ?? []);
    this.env = options.env;
  }

  async queryService(name: string): Promise<ServiceStatus> {
    const status = await this.query(name);
    return toServiceStatus(name, status);
  }

  async stopService(name: string): Promise<ServiceStatus> {
    const deadline = Date.now() + this.stopTimeoutMs;
    let status = await this.requireInstalled(name);
    if (PENDING.has(status.stateCode)) status = await this.waitWhile(name, (s) => PENDING.has(s.stateCode), deadline, 'stop');
    if (status.stateCode === 1) return toServiceStatus(name, status);

    const result = await this.runSc(scStopArgs(name), 'stop', name);
    if (result.kind === 'failure') {
      switch (result.error) {
        case WIN32_ERRORS.SERVICE_NOT_ACTIVE: // stopped meanwhile
        case WIN32_ERRORS.SERVICE_CANNOT_ACCEPT_CTRL: // it is changing state: wait below
          break;
        case WIN32_ERRORS.SERVICE_DOES_NOT_EXIST:
          throw serviceMissing(name);
        case WIN32_ERRORS.ACCESS_DENIED:
          throw new KmsRecoverError('SERVICE_STOP_FAILED',
            `access denied stopping ${name} (sc.exe stop: ${result.api} error 5): ${ELEVATE}`, { service: name, win32Error: 5 });
        case WIN32_ERRORS.DEPENDENT_SERVICES_RUNNING:
          throw new KmsRecoverError('SERVICE_STOP_FAILED',
            `${name} cannot be stopped while services that depend on it run (error 1051): stop them first, then run kms-recover resume`,
            { service: name, win32Error: result.error });
        default:
          throw new KmsRecoverError('SERVICE_STOP_FAILED',
            `sc.exe stop ${name} failed: ${result.api} error ${result.error}${result.text ? ` (${result.text})` : ''}`,
            { service: name, win32Error: result.error });
      }
    }
    const final = await this.waitWhile(name, (s) => s.stateCode !== 1, deadline, 'stop');
    return toServiceStatus(name, final);
  }

  async startService(name: string, startParameters: readonly string[]): Promise<ServiceStatus> {
    const alpha = startParameters[0];
    if (!alpha) throw new KmsRecoverError('SERVICE_START_FAILED', 'the KMS needs its alpha string as start parameter', { service: name });
    if (startParameters.length !== 1 || /[\r\n\0]/.test(alpha)) {
      throw new KmsRecoverError('SERVICE_START_FAILED', 'the KMS takes exactly one start parameter, its alpha string, on one line', { service: name });
    }
    const deadline = Date.now() + this.startTimeoutMs;
    let status = await this.requireInstalled(name);
    if (PENDING.has(status.stateCode)) status = await this.waitWhile(name, (s) => PENDING.has(s.stateCode), deadline, 'start');
    if (status.stateCode === 4) return toServiceStatus(name, status);
    if (status.stateCode === 7) {
      throw new KmsRecoverError('SERVICE_START_FAILED',
        `${name} is PAUSED, not stopped: stop it (sc.exe stop ${name}), then run kms-recover resume`, { service: name, state: 'PAUSED' });
    }

    const script = buildStartScript({ service: name, timeoutMs: Math.max(1000, deadline - Date.now()), pollMs: Math.min(this.pollMs, 1000) });
    let run: ProcessResult;
    try {
      run = await runProcess(this.tools.powershell, powershellArgs(), {
        stdin: buildStartInput(script, alpha),
        timeoutMs: Math.max(1000, deadline - Date.now()) + this.commandTimeoutMs,
        env: this.env,
      });
    } catch (error) {
      throw new KmsRecoverError('SERVICE_START_FAILED',
        `cannot run Windows PowerShell (${this.tools.powershell}): ${(error as ProcessStartError).errno ?? (error as Error).message}; the Windows adapter starts the KMS through it`,
        { service: name, program: this.tools.powershell }, { cause: error });
    }
    const result = parseStartResult(run.stdout);
    if (result === undefined) {
      const said = redact(firstLine(run.stderr) || firstLine(run.stdout), alpha);
      throw new KmsRecoverError('SERVICE_START_FAILED',
        `PowerShell did not report how the start of ${name} went (${run.timedOut ? 'killed after its timeout' : `exit ${run.exitCode ?? run.signal}`})${said ? `: ${said}` : ''}; check the service's state with sc.exe query ${name}`,
        { service: name, exitCode: run.exitCode, timedOut: run.timedOut });
    }
    return this.afterStart(name, result, alpha);
  }

  private async afterStart(name: string, result: StartScriptResult, alpha: string): Promise<ServiceStatus> {
    const detail: Record<string, unknown> = { service: name };
    if (result.ok) {
      const now = await this.requireInstalled(name);
      if (now.stateCode === 4) return toServiceStatus(name, now);
      throw new KmsRecoverError('SERVICE_START_FAILED',
        `${name} reported RUNNING to PowerShell but sc.exe query now says ${now.stateName}${suffix(describeExitCodes(now))}`,
        { ...detail, state: now.stateName, win32ExitCode: now.win32ExitCode, serviceExitCode: now.serviceExitCode });
    }
    switch (result.reason) {
      case 'open-failed':
      case 'start-refused': {
        const win32 = result.win32;
        if (win32 === WIN32_ERRORS.SERVICE_DOES_NOT_EXIST) throw serviceMissing(name);
        if (win32 === WIN32_ERRORS.SERVICE_ALREADY_RUNNING) {
          const now = await this.requireInstalled(name);
          if (now.stateCode === 4) return toServiceStatus(name, now);
        }
        const why = win32 === WIN32_ERRORS.ACCESS_DENIED ? `access denied (error 5): ${ELEVATE}`
          : win32 === WIN32_ERRORS.SERVICE_DISABLED ? `the service is disabled (error 1058): set its startup type to Manual (sc.exe config ${name} start= demand), then run kms-recover resume`
            : win32 === WIN32_ERRORS.SERVICE_LOGON_FAILED ? 'its service account could not log on (error 1069): give it the account and password the Exchange services use (Services, Log On tab), then run kms-recover resume'
              : `${win32 === undefined ? 'error' : `error ${win32}`}${result.message ? ` (${redact(result.message, alpha)})` : ''}`;
        throw new KmsRecoverError('SERVICE_START_FAILED', `Windows refused to start ${name}: ${why}`, { ...detail, win32Error: win32 });
      }
      case 'stopped':
        return this.startFailed(name, result.events ?? []);
      case 'timeout': {
        const now = await this.query(name).catch(() => undefined);
        const state = now?.kind === 'status' ? now.stateName : result.status;
        throw new KmsRecoverError('SERVICE_START_FAILED',
          `${name} did not reach RUNNING within ${seconds(this.startTimeoutMs)} (it is ${state}); check it with sc.exe query ${name} and the Application log, then run kms-recover resume`,
          { ...detail, state, events: result.events ?? [] });
      }
      case 'script-error':
        throw new KmsRecoverError('SERVICE_START_FAILED',
          `the PowerShell start of ${name} failed: ${redact(result.message ?? 'no message', alpha)}`, detail);
    }
  }

  /** The service took its start parameter, then stopped: the KMS's own failure. */
  private async startFailed(name: string, events: readonly ServiceEvent[]): Promise<never> {
    const now = await this.query(name);
    if (now.kind === 'missing') throw serviceMissing(name);
    const exit = describeExitCodes(now);
    const detail = {
      service: name, state: now.stateName, win32ExitCode: now.win32ExitCode, serviceExitCode: now.serviceExitCode,
      events: events.map((e) => ({ id: e.id, message: e.message })),
    };
    const eventText = describeEvents(events);
    const specific = now.win32ExitCode === WIN32_ERRORS.SERVICE_SPECIFIC_ERROR ? now.serviceExitCode : undefined;
    const rejected = (specific !== undefined && this.rejectedExitCodes.has(specific)) || events.some((e) => this.rejectedEventIds.has(e.id));
    if (rejected) {
      throw new KmsRecoverError('ALPHA_REJECTED',
        `${name} rejected the alpha string (${[exit, eventText].filter(Boolean).join('; ')}): it is not the original server's; use the startup disk of the ORIGINAL Key Management Server`,
        detail);
    }
    const hint = specific === 1
      ? 'Microsoft documents this error for a KMS that did not get its start-up password or whose service account is wrong (KB Q151689): check that the alpha string is the ORIGINAL server\'s and the service\'s Log On account, then run kms-recover resume'
      : `check the alpha string (it must be the ORIGINAL server's) and the Application log, then run kms-recover resume`;
    throw new KmsRecoverError('SERVICE_START_FAILED',
      `${name} stopped during its start after reading its start parameter: ${exit ?? 'no exit code reported'}${eventText ? `; ${eventText}` : ''}. ${hint}`,
      detail);
  }

  private async requireInstalled(name: string): Promise<ScServiceStatus> {
    const status = await this.query(name);
    if (status.kind === 'missing') throw serviceMissing(name);
    return status;
  }

  private async waitWhile(name: string, waiting: (s: ScServiceStatus) => boolean, deadline: number, what: 'stop' | 'start'): Promise<ScServiceStatus> {
    let status = await this.requireInstalled(name);
    while (waiting(status)) {
      if (Date.now() >= deadline) {
        const timeout = what === 'stop' ? this.stopTimeoutMs : this.startTimeoutMs;
        const detail = { service: name, state: status.stateName, checkpoint: status.checkpoint, waitHintMs: status.waitHintMs };
        if (what === 'stop' && status.stateCode === 3) {
          throw new KmsRecoverError('SERVICE_STOP_FAILED',
            `${name} is still STOP_PENDING after ${seconds(timeout)} (checkpoint ${status.checkpoint ?? '?'}): the service hangs while stopping; end its process (sc.exe queryex ${name} shows its PID; taskkill /PID <pid> /F), then run kms-recover resume`,
            detail);
        }
        throw new KmsRecoverError(what === 'stop' ? 'SERVICE_STOP_FAILED' : 'SERVICE_START_FAILED',
          `${name} is still ${status.stateName} after ${seconds(timeout)}${suffix(describeExitCodes(status))}; check it with sc.exe query ${name}, then run kms-recover resume`,
          detail);
      }
      await sleep(Math.max(0, Math.min(this.pollMs, deadline - Date.now())));
      status = await this.requireInstalled(name);
    }
    return status;
  }

  /** `sc.exe query`: the status, or missing; access denied and anything unreadable throw. */
  private async query(name: string): Promise<Queried> {
    const result = await this.runSc(scQueryArgs(name), 'query', name);
    if (result.kind === 'status') return result;
    if (result.error === WIN32_ERRORS.SERVICE_DOES_NOT_EXIST) return { kind: 'missing' };
    if (result.error === WIN32_ERRORS.ACCESS_DENIED) {
      throw new KmsRecoverError('SERVICE_ACCESS_DENIED',
        `access denied querying ${name} (sc.exe query: ${result.api} error 5): ${ELEVATE}`, { service: name, win32Error: 5 });
    }
    throw new KmsRecoverError('STEP_FAILED',
      `sc.exe query ${name} failed: ${result.api} error ${result.error}${result.text ? ` (${result.text})` : ''}`, { service: name, win32Error: result.error });
  }

  private async runSc(args: string[], verb: 'query' | 'stop', name: string): Promise<ScServiceStatus | ScFailure> {
    const failCode: ErrorCode = verb === 'stop' ? 'SERVICE_STOP_FAILED' : 'STEP_FAILED';
    let run: ProcessResult;
    try {
      run = await runProcess(this.tools.sc, args, { timeoutMs: this.commandTimeoutMs, env: this.env });
    } catch (error) {
      throw new KmsRecoverError(failCode, `cannot run ${this.tools.sc}: ${(error as ProcessStartError).errno ?? (error as Error).message}`,
        { service: name, program: this.tools.sc }, { cause: error });
    }
    if (run.timedOut) {
      throw new KmsRecoverError(failCode, `sc.exe ${verb} ${name} did not answer within ${seconds(this.commandTimeoutMs)}`, { service: name });
    }
    try {
      return parseScQuery(run.stdout);
    } catch (error) {
      // sc.exe exits with the Win32 error number; without a readable text, that is all there is.
      if (run.exitCode !== null && run.exitCode !== 0) {
        return { kind: 'failure', api: verb === 'stop' ? 'ControlService' : 'QueryServiceStatus', error: run.exitCode, text: firstLine(run.stdout) };
      }
      throw new KmsRecoverError(failCode,
        `sc.exe ${verb} ${name} printed something unreadable (${(error as Error).message}): ${firstLine(run.stdout) || firstLine(run.stderr) || 'nothing'}`,
        { service: name, exitCode: run.exitCode });
    }
  }
}

function suffix(text: string | undefined): string {
  return text === undefined ? '' : ` (${text})`;
}

function serviceMissing(name: string): KmsRecoverError {
  return new KmsRecoverError('SERVICE_MISSING',
    `the service ${name} is not installed (error 1060): reinstall Exchange Server, its service packs and Key Management Server first (KB step 1)`,
    { service: name, win32Error: 1060 });
}

function toServiceStatus(name: string, status: Queried): ServiceStatus {
  if (status.kind === 'missing') return { name, state: 'missing' };
  const result: ServiceStatus = { name: status.serviceName || name, state: status.state };
  if (status.pid !== undefined && status.pid > 0) result.pid = status.pid;
  return result;
}

/** Never let the alpha string through in text a child process wrote. */
function redact(text: string, alpha: string): string {
  return alpha ? text.split(alpha).join('[alpha string]') : text;
}
