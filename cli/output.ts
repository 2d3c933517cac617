import { DEFAULT_WIDTH, wrap } from '../present/wrap.js';
import { printed } from './printed-commands.js';

/** Human lines go to stderr (progress) and stdout (results); `--json` prints one document on stdout. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/**
 * The width a stream's lines must fit: the terminal's, else COLUMNS (as a shell sets it, and
 * the tests do), else 80.
 */
export function screenWidth(stream: { isTTY?: boolean; columns?: number } = process.stdout): number {
  if (stream.isTTY && stream.columns !== undefined && stream.columns > 0) return stream.columns;
  const columns = Number(process.env.COLUMNS);
  return Number.isInteger(columns) && columns > 0 ? columns : DEFAULT_WIDTH;
}

export function printLine(line = ''): void {
  process.stdout.write(`${fitted(line, process.stdout)}\n`);
}

export function progressLine(line: string): void {
  process.stderr.write(`${fitted(line, process.stderr)}\n`);
}

/** A line as it goes out: its commands as they work here (printed-commands.ts), then wrapped at word boundaries to the stream's width (present/wrap.ts). */
export function fitted(line: string, stream: { isTTY?: boolean; columns?: number }): string {
  return wrap(printed(line), screenWidth(stream)).join('\n');
}

