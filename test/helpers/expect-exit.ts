import { expect } from 'vitest';
import type { CliResult } from './run-cli.js';

/** The process ended with this exit status, or was killed (a fail point's SIGKILL); its output is the message otherwise. */
export function expectExit(result: CliResult, exit: number | 'SIGKILL'): void {
  if (exit === 'SIGKILL') expect(result.signal, `${result.stdout}${result.stderr}`).toBe('SIGKILL');
  else expect(result.code, `${result.stdout}${result.stderr}`).toBe(exit);
}
