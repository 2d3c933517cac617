import { spawn } from 'node:child_process';

export interface RunProcessOptions {
  /** Written to the child's standard input, which is then closed. Never logged. */
  stdin?: string;
  /** Kill the child after this long (default 60 s). */
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export interface ProcessResult {
  /** Null when killed by a signal or the timeout. */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export class ProcessStartError extends Error {
  readonly errno: string | undefined;
  constructor(readonly file: string, cause: NodeJS.ErrnoException) {
    super(`cannot run ${file}: ${cause.code ?? cause.message}`, { cause });
    this.name = 'ProcessStartError';
    this.errno = cause.code;
  }
}

/** sc.exe and powershell.exe write the console's OEM code page; the numbers we read are ASCII either way. */
function decode(chunks: Buffer[]): string {
  const bytes = Buffer.concat(chunks);
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return bytes.toString('latin1');
  }
}

/**
 * Runs `file` with the argument vector `args`: no shell, so nothing is re-parsed or expanded,
 * and `args` is the whole command line. Collects standard output and error, writes `stdin`
 * (then closes it), and kills the child when `timeoutMs` runs out. Rejects only when the
 * program cannot be started at all (ProcessStartError); a non-zero exit is a result.
 */
export function runProcess(file: string, args: readonly string[], options: RunProcessOptions = {}): Promise<ProcessResult> {
  return new Promise<ProcessResult>((resolve, reject) => {
    let child;
    try {
      child = spawn(file, [...args], {
        shell: false,
        windowsHide: true,
        stdio: ['pipe', 'pipe', 'pipe'],
        env: options.env ?? process.env,
        cwd: options.cwd,
      });
    } catch (error) {
      reject(new ProcessStartError(file, error as NodeJS.ErrnoException));
      return;
    }
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let timedOut = false;
    let settled = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs ?? 60_000);

    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    child.stdin.on('error', () => undefined); // the child may exit before reading everything
    child.once('error', (error: NodeJS.ErrnoException) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      reject(new ProcessStartError(file, error));
    });
    child.once('close', (exitCode, signal) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ exitCode, signal, stdout: decode(stdout), stderr: decode(stderr), timedOut });
    });
    child.stdin.end(options.stdin ?? '');
  });
}
