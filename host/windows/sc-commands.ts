import path from 'node:path';

/*
 * The exact programs and argument vectors the Windows adapter runs. Nothing here ever takes the
 * alpha string: it goes to PowerShell on standard input (see powershell-start.ts).
 */

export interface WindowsTools {
  /** Full path (or, off Windows, a bare name looked up on PATH) of sc.exe. */
  sc: string;
  /** Full path (or bare name) of Windows PowerShell, powershell.exe. */
  powershell: string;
}

export interface ToolOptions {
  /** A folder holding both `sc.exe` and `powershell.exe` (the tests' stand-ins). */
  toolDirectory?: string;
  platform?: NodeJS.Platform;
  env?: NodeJS.ProcessEnv;
}

/**
 * Where the two programs are taken from. On Windows the real ones, by full path under
 * %SystemRoot%\System32, never a PATH search: Windows looks in the current folder and the
 * program's folder before PATH, and the alpha string is handed to whatever runs as
 * "powershell.exe", so a planted copy must not be picked up. `toolDirectory` overrides both
 * (for tests); off Windows (tests only) the bare names are looked up on PATH.
 */
export function resolveWindowsTools(options: ToolOptions = {}): WindowsTools {
  if (options.toolDirectory !== undefined) {
    const dir = options.toolDirectory;
    const p = (options.platform ?? process.platform) === 'win32' ? path.win32 : path;
    return { sc: p.join(dir, 'sc.exe'), powershell: p.join(dir, 'powershell.exe') };
  }
  if ((options.platform ?? process.platform) === 'win32') {
    const env = options.env ?? process.env;
    const systemRoot = env.SystemRoot ?? env.SYSTEMROOT ?? env.windir ?? 'C:\\Windows';
    const system32 = path.win32.join(systemRoot, 'System32');
    return {
      sc: path.win32.join(system32, 'sc.exe'),
      powershell: path.win32.join(system32, 'WindowsPowerShell', 'v1.0', 'powershell.exe'),
    };
  }
  return { sc: 'sc.exe', powershell: 'powershell.exe' };
}

/** `sc.exe query <service>`: the status block, or `[SC] OpenService FAILED <n>:`. */
export function scQueryArgs(service: string): string[] {
  return ['query', checkServiceName(service)];
}

/** `sc.exe stop <service>`: sends SERVICE_CONTROL_STOP and returns at once (STOP_PENDING). */
export function scStopArgs(service: string): string[] {
  return ['stop', checkServiceName(service)];
}

/**
 * Windows PowerShell reading its script from standard input (`-Command -`): neither the script
 * nor the alpha string that follows it on standard input appears on a command line.
 */
export function powershellArgs(): string[] {
  return ['-NoLogo', '-NoProfile', '-NonInteractive', '-Command', '-'];
}

/** A service key name as the SCM knows it; refuses anything that could be read as an sc option. */
export function checkServiceName(service: string): string {
  if (!/^[A-Za-z0-9_.$-]{1,256}$/.test(service)) throw new Error(`not a plain service name: ${JSON.stringify(service)}`);
  return service;
}
