import { checkServiceName } from './sc-commands.js';

/*
 * Starting the KMS with its alpha string as start parameter, without the alpha string ever
 * reaching a command line: sc.exe would take it only as an argument (`sc start MSExchangeKMS
 * <alpha>`), visible to every process on the server. Instead Windows PowerShell is started with
 * `-Command -` and reads this script from standard input; the script's first statement reads the
 * NEXT line of standard input, the alpha string, and hands it to
 * System.ServiceProcess.ServiceController.Start(string[]) (StartServiceW's lpServiceArgVectors,
 * exactly what the Services panel's "Start parameters" box does). A method call, not a cmdlet,
 * so PowerShell's module logging does not record the value either.
 *
 * The script is one line on purpose: `-Command -` runs standard input line by line, and a
 * statement spanning lines would need a blank line to end it. It reports one machine-readable line,
 * `KMS-RECOVER-RESULT <json>`, and exits.
 */

export const RESULT_MARKER = 'KMS-RECOVER-RESULT ';

export interface StartScriptOptions {
  service: string;
  /** How long the service may stay START_PENDING before the start counts as failed. */
  timeoutMs: number;
  /** Poll interval while waiting for RUNNING or STOPPED. */
  pollMs?: number;
}

/** One event of the service's source in the Application log, written since the start began. */
export interface ServiceEvent {
  id: number;
  type?: string;
  message?: string;
}

export type StartScriptResult =
  | { ok: true; status: string }
  /** The service could not be opened (1060: not installed, 5: access denied). */
  | { ok: false; reason: 'open-failed'; win32?: number; message?: string }
  /** StartService itself failed (1058 disabled, 1069 logon failure, 1056 already running, 5...). */
  | { ok: false; reason: 'start-refused'; win32?: number; message?: string }
  /** It started, then stopped again before RUNNING: the service's own failure. */
  | { ok: false; reason: 'stopped'; status: string; events?: ServiceEvent[] }
  /** Still pending when the timeout ran out. */
  | { ok: false; reason: 'timeout'; status: string; events?: ServiceEvent[] }
  /** Anything else the script met. */
  | { ok: false; reason: 'script-error'; message?: string };

function psString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** The script text. It contains no secret: the alpha string follows it on standard input. */
export function buildStartScript(options: StartScriptOptions): string {
  const service = psString(checkServiceName(options.service));
  const timeoutMs = Math.max(1, Math.round(options.timeoutMs));
  const pollMs = Math.max(10, Math.round(options.pollMs ?? 250));
  const statements = [
    // First, before anything can fail: take the alpha string off standard input.
    '$alpha = [Console]::In.ReadLine()',
    "$ErrorActionPreference = 'Stop'",
    'try { [Console]::OutputEncoding = New-Object System.Text.UTF8Encoding $false } catch { }',
    `function Out-Result($r) { [Console]::Out.WriteLine(${psString(RESULT_MARKER)} + (ConvertTo-Json -Compress -Depth 4 -InputObject $r)); [Console]::Out.Flush() }`,
    'function Get-Win32Code($e) { while ($e -ne $null) { if ($e -is [System.ComponentModel.Win32Exception]) { return $e.NativeErrorCode }; $e = $e.InnerException }; return $null }',
    'function Get-FirstLine($e) { $m = $e.Message; while ($e.InnerException -ne $null) { $e = $e.InnerException; $m = $e.Message }; return ([string]$m -split "`r?`n")[0] }',
    `function Get-KmsEvents($since) { try { return @(Get-EventLog -LogName Application -Source ${service} -After $since -ErrorAction Stop | Select-Object -First 5 | ForEach-Object { @{ id = [int]($_.InstanceId -band 0xFFFF); type = [string]$_.EntryType; message = ([string]$_.Message -split "\`r?\`n")[0] } }) } catch { return @() } }`,
    'try { '
      + '$since = (Get-Date).AddSeconds(-2); '
      + 'try { Add-Type -AssemblyName System.ServiceProcess } catch { }; '
      + `$svc = New-Object System.ServiceProcess.ServiceController ${service}; `
      + "try { $null = $svc.Status } catch { $alpha = $null; Out-Result @{ ok = $false; reason = 'open-failed'; win32 = (Get-Win32Code $_.Exception); message = (Get-FirstLine $_.Exception) }; exit 3 }; "
      + "try { $svc.Start([string[]]@($alpha)) } catch { $alpha = $null; Out-Result @{ ok = $false; reason = 'start-refused'; win32 = (Get-Win32Code $_.Exception); message = (Get-FirstLine $_.Exception) }; exit 4 }; "
      + '$alpha = $null; '
      + `$deadline = (Get-Date).AddMilliseconds(${timeoutMs}); `
      + "while ($true) { $svc.Refresh(); $state = [string]$svc.Status; if ($state -eq 'Running' -or $state -eq 'Stopped' -or (Get-Date) -gt $deadline) { break }; "
      + `Start-Sleep -Milliseconds ${pollMs} }; `
      + "if ($state -eq 'Running') { Out-Result @{ ok = $true; status = $state }; exit 0 }; "
      + "$reason = 'timeout'; if ($state -eq 'Stopped') { $reason = 'stopped' }; "
      + 'Out-Result @{ ok = $false; reason = $reason; status = $state; events = @(Get-KmsEvents $since) }; exit 5 '
      + "} catch { $alpha = $null; Out-Result @{ ok = $false; reason = 'script-error'; message = (Get-FirstLine $_.Exception) }; exit 9 }",
  ];
  return statements.join('; ');
}

/**
 * What PowerShell reads on standard input: the script line, then the alpha string line. The
 * alpha string must be one line (an alpha string is 14 printable ASCII characters).
 */
export function buildStartInput(script: string, alpha: string): string {
  if (/[\r\n]/.test(script)) throw new Error('the start script must be a single line');
  if (alpha === '' || /[\r\n\0]/.test(alpha)) throw new Error('the start parameter must be one non-empty line');
  return `${script}\r\n${alpha}\r\n`;
}

/** The last `KMS-RECOVER-RESULT` line PowerShell printed, or undefined if none could be read. */
export function parseStartResult(stdout: string): StartScriptResult | undefined {
  // Anywhere in a line: `-Command -` may print a prompt before the script's output.
  const line = stdout.split(/\r\n|\n|\r/).reverse().find((l) => l.includes(RESULT_MARKER));
  if (line === undefined) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(line.slice(line.indexOf(RESULT_MARKER) + RESULT_MARKER.length));
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const r = value as Record<string, unknown>;
  const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
  const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isSafeInteger(v) ? v : undefined);
  const withOptional = <T extends object>(base: T, extra: Record<string, unknown>): T => {
    for (const [k, v] of Object.entries(extra)) if (v !== undefined) (base as Record<string, unknown>)[k] = v;
    return base;
  };
  if (r.ok === true) return { ok: true, status: str(r.status) ?? 'Running' };
  switch (r.reason) {
    case 'open-failed':
    case 'start-refused':
      return withOptional<StartScriptResult>({ ok: false, reason: r.reason }, { win32: num(r.win32), message: str(r.message) });
    case 'stopped':
    case 'timeout': {
      const events = Array.isArray(r.events) ? r.events.flatMap((e): ServiceEvent[] => {
        if (typeof e !== 'object' || e === null) return [];
        const ev = e as Record<string, unknown>;
        const id = num(ev.id);
        return id === undefined ? [] : [withOptional({ id } as ServiceEvent, { type: str(ev.type), message: str(ev.message) })];
      }) : [];
      return { ok: false, reason: r.reason, status: str(r.status) ?? '', events };
    }
    case 'script-error':
      return withOptional<StartScriptResult>({ ok: false, reason: 'script-error' }, { message: str(r.message) });
    default:
      return undefined;
  }
}
