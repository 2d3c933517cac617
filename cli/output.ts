/** Human lines go to stderr (progress) and stdout (results); `--json` prints one document on stdout. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function printLine(line = ''): void {
  process.stdout.write(`${line}\n`);
}

export function progressLine(line: string): void {
  process.stderr.write(`${line}\n`);
}

export { formatBytes } from '../present/byte-words.js';
