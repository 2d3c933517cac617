import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectExit } from '../helpers/expect-exit.js';
import { REPO_ROOT, runCli } from '../helpers/run-cli.js';
import { resumeWithDisk, startWithDiskArgs } from '../helpers/sim-cli.js';
import { disposeSimFixture, simFixture, type SimFixture } from '../helpers/sim-fixture.js';
import { cliLimit } from '../helpers/time-limit.js';
import { decodePng, inkOf } from '../helpers/png.js';
import { dumpDom, pdfText, printToPdf, screenshot } from './chromium.js';
import { measureOf, onPaper, withMeasure } from './page-checks.js';

/*
 * The incident report in a real browser (Debian's headless Chromium), for a finished run (with
 * an automatic retry and an interruption on its way) and an interrupted one: the screenshot is
 * not blank, the page makes no request, no text leaves its box on screen or at the width of a
 * printed page, and the PDF on A4 and on Letter holds the run id and every KB step. Screenshots
 * and PDFs stay in .cache/browser-lane/ to look at (docs/report.png is the finished one).
 */

const OUT = path.join(REPO_ROOT, '.cache/browser-lane');
const KB_STEPS = ['KB step 1', 'KB step 2', 'KB step 3', 'KB step 4', 'KB steps 5-6', 'KB step 7'];
/** The printable width of A4 and Letter at 96 px per inch, with the report's 12 mm margins: about 700 px. */
const PRINT_WIDTH = 700;

const sims: SimFixture[] = [];
const reports: { name: string; html: string; runId: string }[] = [];

async function reportOf(sim: SimFixture, name: string): Promise<void> {
  const file = path.join(OUT, `${name}.html`);
  expectExit(await runCli(['report', '--db', sim.db, '-o', file]), 0);
  const runId = /run ([0-9a-f]{8})/.exec(fs.readFileSync(file, 'utf8'))![1]!;
  reports.push({ name, html: file, runId });
}

beforeAll(async () => {
  fs.rmSync(OUT, { recursive: true, force: true });
  fs.mkdirSync(OUT, { recursive: true });
  const finished = await simFixture();
  sims.push(finished);
  expectExit(await runCli(startWithDiskArgs(finished, ['--backoff', 'clear=1', '--settle', '2']), {
    env: { KMS_RECOVER_FAULT: 'clearKmsdata:1', KMS_RECOVER_FAIL_AT: 'restore-after-file:2' },
  }), 'SIGKILL');
  expectExit(await resumeWithDisk(finished), 0);
  await reportOf(finished, 'finished');
  const interrupted = await simFixture();
  sims.push(interrupted);
  expectExit(await runCli(startWithDiskArgs(interrupted), { env: { KMS_RECOVER_FAIL_AT: 'restore-after-file:2' } }), 'SIGKILL');
  await reportOf(interrupted, 'interrupted');
}, cliLimit(5));

afterAll(async () => {
  for (const sim of sims) await disposeSimFixture(sim);
});

describe.each(['finished', 'interrupted'])('the report of the %s run in Chromium', (name) => {
  const report = () => reports.find((r) => r.name === name)!;

  it('a 1600×1000 screenshot that is not blank', async () => {
    const png = decodePng(await screenshot(report().html, path.join(OUT, `${name}.png`)));
    expect([png.width, png.height]).toEqual([1600, 1000]);
    const ink = inkOf(png);
    expect(ink.inked, 'share of the screenshot that is not background').toBeGreaterThan(0.03);
    expect(ink.colours).toBeGreaterThan(50);
  }, 180_000);

  it.each([1600, PRINT_WIDTH])('no request of any kind, and no text outside its box, at %i px wide', async (width) => {
    const measured = path.join(OUT, `${name}-measured-${width}.html`);
    fs.writeFileSync(measured, withMeasure(fs.readFileSync(report().html, 'utf8')));
    const m = measureOf(await dumpDom(measured, width));
    expect(m.texts, 'texts measured').toBeGreaterThan(100);
    expect(m.resources, 'requests the page made').toEqual([]);
    expect(m.violations, 'requests the policy refused').toEqual([]);
    expect(m.overflow, 'texts outside their box').toEqual([]);
    expect(m.overlaps, 'texts of a drawing on each other').toEqual([]);
    expect(m.scrollWidth, 'the page is no wider than the window').toBeLessThanOrEqual(m.width);
  }, 180_000);

  it.each(['A4', 'letter'] as const)('printed on %s: the run id and every KB step on its pages', async (paper) => {
    const page = path.join(OUT, `${name}-${paper}.html`);
    fs.writeFileSync(page, onPaper(fs.readFileSync(report().html, 'utf8'), paper));
    const pdf = path.join(OUT, `${name}-${paper}.pdf`);
    await printToPdf(page, pdf);
    const { text, pages, pageSize } = await pdfText(pdf);
    expect(pageSize).toContain(paper === 'A4' ? '(A4)' : '(letter)');
    expect(pages).toBeGreaterThan(1);
    expect(text).toContain(report().runId);
    for (const kb of KB_STEPS) expect(text).toContain(kb);
    // Nothing cut off at the end either: the last event of the log is printed.
    expect(text).toMatch(name === 'finished' ? /run finished: the original Key Management Server runs/ : /restore started \(attempt 1\)/);
  }, 180_000);
});
