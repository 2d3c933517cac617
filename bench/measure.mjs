// Shared helpers for `npm run bench`: timing, medians, ratios and the PASS/MISS table.
// Every benchmark measures the tool and its physical baseline in the same run, interleaved
// (A B A B ...), so both see the same noise; only the ratio of the medians is judged.
import { spawnSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';

export const now = () => performance.now();

/**
 * `KMS_BENCH_SMOKE=1`: a smoke run that only proves a benchmark runs and prints its rows (one
 * sample, no warmup, trees scaled down by `smokeScale`); its figures mean nothing.
 */
export const SMOKE = process.env.KMS_BENCH_SMOKE === '1';
export const samplesOf = (samples) => (SMOKE ? 1 : samples);
export const smokeScale = (bytes) => (SMOKE ? Math.max(1, Math.floor(bytes / 64)) : bytes);

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Times one call (sync or async) in milliseconds. */
export async function time(fn) {
  const start = now();
  await fn();
  return now() - start;
}

/**
 * Runs `samples` rounds of every side (`sides`: name -> function), rotating which side goes
 * first each round so none always runs first, and returns each side's sample times (ms).
 * `before(name)` runs untimed ahead of every sample (cleanup, sync); `warmup` rounds are dropped.
 */
export async function interleave({ samples, warmup = 1, sides, before }) {
  if (SMOKE) { samples = 1; warmup = 0; }
  const names = Object.keys(sides);
  const times = Object.fromEntries(names.map((name) => [name, []]));
  for (let round = -warmup; round < samples; round += 1) {
    const shift = ((round % names.length) + names.length) % names.length;
    for (const name of [...names.slice(shift), ...names.slice(0, shift)]) {
      if (before) await before(name);
      const ms = await time(sides[name]);
      if (round >= 0) times[name].push(ms);
    }
  }
  return times;
}

/** Spawns a command and returns when it ends; throws if it fails (a failing tool is no benchmark). */
export function run(command, args, options = {}) {
  const result = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, ...options });
  if (result.error) throw result.error;
  if (result.status !== 0 && !options.allowFailure) {
    throw new Error(`${command} ${args.join(' ')} exited ${result.status}: ${result.stderr}`);
  }
  return result;
}

export function fmtMs(ms) {
  return ms >= 100 ? `${ms.toFixed(0)} ms` : ms >= 10 ? `${ms.toFixed(1)} ms` : `${ms.toFixed(3)} ms`;
}

/**
 * One result row: `target` null means informational (no PASS/MISS). `unit` describes what one
 * sample is (e.g. "200 checkpoints").
 */
export function row({ name, tool, baseline, baselineName, target = null, samples, note, unit = 'ms' }) {
  const toolMedian = median(tool);
  const baseMedian = median(baseline);
  const ratio = toolMedian / baseMedian;
  return {
    name, baselineName, samples: Math.min(tool.length, baseline.length),
    toolMedian, baseMedian, ratio, target, unit,
    verdict: target === null ? 'info' : ratio <= target ? 'PASS' : 'MISS',
    note,
  };
}

/**
 * A floor made of several physical baselines, each the least the step must do (e.g. copy the
 * tree to disk, and read and hash it): the slowest of them in this run, by median. Returns the
 * `baseline` samples and a `baselineName` that says what the floor is and which side it was.
 * `sides`: label -> samples.
 */
export function maxFloor(sides) {
  const entries = Object.entries(sides).map(([label, samples]) => ({ label, samples, median: median(samples) }));
  const slowest = entries.reduce((a, b) => (b.median > a.median ? b : a));
  const others = entries.filter((e) => e !== slowest).map((e) => `${e.label} ${fmtMs(e.median)}`).join(', ');
  return {
    baseline: slowest.samples,
    baselineName: `max(${entries.map((e) => e.label).join(', ')}) = ${slowest.label} in this run (${others})`,
  };
}

function fmt(value, unit) {
  return unit === 'KiB' ? `${(value / 1024).toFixed(0)} MiB` : fmtMs(value);
}

/**
 * One benchmark's result: its rows, and them as a Markdown table (what goes into
 * bench/RESULTS.md); `npm run bench -- --json` prints the rows instead.
 */
export function table(title, rows) {
  return { title, rows, markdown: markdownTable(title, rows) };
}

function markdownTable(title, rows) {
  const lines = [
    `### ${title}`,
    '',
    '| measure | n | tool median | baseline | baseline median | ratio | target | result |',
    '|---|---:|---:|---|---:|---:|---:|---|',
    ...rows.map((r) => `| ${r.name} | ${r.samples} | ${fmt(r.toolMedian, r.unit)} | ${r.baselineName} | ${fmt(r.baseMedian, r.unit)} | ${r.ratio.toFixed(2)}× | ${r.target === null ? '—' : `≤ ${r.target.toFixed(Number.isInteger(r.target * 10) ? 1 : 2)}×`} | ${r.verdict} |`),
  ];
  const notes = rows.filter((r) => r.note).map((r) => `- ${r.name}: ${r.note}`);
  if (notes.length > 0) lines.push('', ...notes);
  return lines.join('\n');
}
