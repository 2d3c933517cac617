import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Debian's headless Chromium on a file, with a profile of its own, none of its own traffic, as root too. */
export async function chromium(file: string, args: string[]): Promise<string> {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'kms-chromium-'));
  try {
    const { stdout } = await run('chromium', [
      '--headless', '--no-sandbox', '--disable-gpu', '--hide-scrollbars', '--no-first-run', '--disable-extensions',
      '--disable-background-networking', '--disable-component-update', '--disable-sync', `--user-data-dir=${profile}`,
      ...args, pathToFileURL(file).href,
    ], { maxBuffer: 64 * 1024 * 1024, timeout: 120_000 });
    return stdout;
  } finally {
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

/** A 1600×1000 screenshot of the page, as a PNG file's bytes. */
export async function screenshot(file: string, png: string, size = '1600,1000'): Promise<Buffer> {
  await chromium(file, [`--window-size=${size}`, `--screenshot=${png}`]);
  return fs.readFileSync(png);
}

/** The page printed to PDF as Chromium's print does (no header and footer of its own). */
export async function printToPdf(file: string, pdf: string): Promise<void> {
  await chromium(file, ['--no-pdf-header-footer', `--print-to-pdf=${pdf}`]);
}

/** The page's DOM after its scripts ran, at a window width (the measurements of page-checks.ts). */
export function dumpDom(file: string, width: number): Promise<string> {
  return chromium(file, [`--window-size=${width},1000`, '--virtual-time-budget=3000', '--dump-dom']);
}

/** pdftotext's text of a PDF, and pdfinfo's page count and size. */
export async function pdfText(pdf: string): Promise<{ text: string; pages: number; pageSize: string }> {
  const { stdout: text } = await run('pdftotext', ['-layout', pdf, '-']);
  const { stdout: info } = await run('pdfinfo', [pdf]);
  return { text, pages: Number(/^Pages:\s+(\d+)/m.exec(info)?.[1] ?? 0), pageSize: /^Page size:\s+(.+)$/m.exec(info)?.[1] ?? '' };
}
