import { BAR_KINDS, type BarKind, type ReportTimeline } from '../recovery/report-timeline.js';
import { durationWords, localTime } from '../present/time-words.js';
import { escapeXml } from '../present/xml-escape.js';

/*
 * The report's time line as an SVG chart: one row per KB step, bars on one time axis. A step
 * takes milliseconds and an interruption may last hours, so a long idle span (nothing under way
 * in it) is drawn short, as a break marked with its length, and every bar is at least visible.
 */

const WIDTH = 1000;
const LEFT = 270;
const RIGHT = 16;
const TOP = 34;
const ROW = 30;
const BAR = 16;
const MIN_BAR = 3;

/** How each kind of bar is drawn: a colour, or (a wait, an interruption) stripes of one. */
export const BAR_STYLE: Record<BarKind, { color: string; hatched: boolean; words: string }> = {
  done: { color: '#2e7d32', hatched: false, words: 'attempt done' },
  error: { color: '#c62828', hatched: false, words: 'attempt failed' },
  'cut-off': { color: '#ef6c00', hatched: false, words: 'attempt cut off' },
  'under-way': { color: '#1565c0', hatched: false, words: 'attempt under way' },
  operator: { color: '#f9a825', hatched: true, words: 'waiting for the administrator' },
  backoff: { color: '#757575', hatched: true, words: 'waiting to retry' },
  settle: { color: '#00838f', hatched: false, words: 'settle window' },
  'no-driver': { color: '#c62828', hatched: true, words: 'interrupted: no process drove the run' },
};

/** The fill of a kind of bar, in a drawing whose patterns are named with `prefix` (see barPatterns). */
export function barFill(kind: BarKind, prefix: string): string {
  return BAR_STYLE[kind].hatched ? `url(#${prefix}-${kind})` : BAR_STYLE[kind].color;
}

/** The stripes of the hatched kinds, as <pattern>s named `<prefix>-<kind>`. */
export function barPatterns(prefix: string): string {
  return BAR_KINDS.filter((k) => BAR_STYLE[k].hatched).map((k) =>
    `<pattern id="${prefix}-${k}" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#ffffff"/><rect width="3" height="6" fill="${BAR_STYLE[k].color}"/></pattern>`).join('');
}

interface Span { from: number; to: number; compressed: boolean }

/** The time axis as spans: idle spans longer than a fifth of the whole (and than 30 s) are compressed. */
function spansOf(t: ReportTimeline): Span[] {
  const start = Date.parse(t.start);
  const end = Math.max(Date.parse(t.end), start + 1);
  const busy = t.bars.filter((b) => b.kind !== 'no-driver' && b.kind !== 'operator' && b.kind !== 'backoff')
    .map((b) => [Date.parse(b.from), Date.parse(b.to)] as const).sort((a, b) => a[0] - b[0]);
  const points = new Set<number>([start, end]);
  for (const b of t.bars) { points.add(Date.parse(b.from)); points.add(Date.parse(b.to)); }
  for (const m of t.marks) points.add(Date.parse(m.at));
  const sorted = [...points].filter((p) => p >= start && p <= end).sort((a, b) => a - b);
  const whole = end - start;
  const spans: Span[] = [];
  for (let i = 0; i + 1 < sorted.length; i++) {
    const from = sorted[i]!;
    const to = sorted[i + 1]!;
    const idle = !busy.some(([a, b]) => a < to && b > from);
    spans.push({ from, to, compressed: idle && to - from > Math.max(whole / 5, 30_000) });
  }
  return spans.length ? spans : [{ from: start, to: end, compressed: false }];
}

export function timelineSvg(t: ReportTimeline): string {
  const spans = spansOf(t);
  const plain = spans.filter((s) => !s.compressed).reduce((n, s) => n + (s.to - s.from), 0);
  // A compressed span is drawn as 4% of the axis, whatever its length.
  const breakWeight = Math.max(plain, 1) * 0.04;
  const weightOf = (s: Span) => (s.compressed ? breakWeight : s.to - s.from);
  const total = spans.reduce((n, s) => n + weightOf(s), 0) || 1;
  const plotWidth = WIDTH - LEFT - RIGHT;
  const x = (iso: string): number => {
    const time = Date.parse(iso);
    let acc = 0;
    for (const s of spans) {
      if (time <= s.to) return LEFT + ((acc + (time <= s.from ? 0 : weightOf(s) * (time - s.from) / Math.max(s.to - s.from, 1))) / total) * plotWidth;
      acc += weightOf(s);
    }
    return LEFT + plotWidth;
  };
  const height = TOP + t.rows.length * ROW + 12;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${height}" role="img" aria-label="Time line of the recovery" class="timeline">`);
  out.push(`<defs>${barPatterns('kr')}</defs>`);
  out.push(`<rect x="0" y="0" width="${WIDTH}" height="${height}" fill="#ffffff"/>`);
  // Rows and their labels.
  t.rows.forEach((row, i) => {
    const y = TOP + i * ROW;
    if (i % 2 === 0) out.push(`<rect x="${LEFT}" y="${y}" width="${plotWidth}" height="${ROW}" fill="#f5f7fa"/>`);
    out.push(`<text x="8" y="${y + ROW / 2 + 4}" font-size="12" font-weight="bold" fill="#263238">${escapeXml(row.kbLabel)}</text>`);
    out.push(`<text x="112" y="${y + ROW / 2 + 4}" font-size="12" fill="#37474f">${escapeXml(row.label)}</text>`);
  });
  // The axis: start, end, and the breaks.
  out.push(`<line x1="${LEFT}" y1="${TOP}" x2="${LEFT + plotWidth}" y2="${TOP}" stroke="#90a4ae"/>`);
  out.push(tick(LEFT, localTime(t.start).slice(11), 'start'));
  out.push(tick(LEFT + plotWidth, localTime(t.end).slice(11), 'end'));
  for (const s of spans.filter((sp) => sp.compressed)) {
    const a = x(new Date(s.from).toISOString());
    const b = x(new Date(s.to).toISOString());
    out.push(`<rect x="${a.toFixed(1)}" y="${TOP}" width="${(b - a).toFixed(1)}" height="${t.rows.length * ROW}" fill="#eceff1"/>`);
    out.push(`<text x="${((a + b) / 2).toFixed(1)}" y="${TOP - 8}" font-size="10" text-anchor="middle" fill="#546e7a">${escapeXml(`${durationWords(s.to - s.from)} (shortened)`)}</text>`);
  }
  // Waits and interruptions first, as a background; the attempts and the settle window over them.
  const behind = (k: BarKind) => (k === 'operator' || k === 'backoff' || k === 'no-driver' ? 0 : k === 'settle' ? 2 : 1);
  for (const b of [...t.bars].sort((p, q) => behind(p.kind) - behind(q.kind))) {
    const w = Math.max(MIN_BAR, x(b.to) - x(b.from));
    const x1 = Math.min(x(b.from), LEFT + plotWidth - w);
    const settle = b.kind === 'settle';
    const y = TOP + b.row * ROW + (ROW - BAR) / 2 + (settle ? BAR - 5 : 0);
    out.push(`<rect class="bar bar-${b.kind}" x="${x1.toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="${settle ? 5 : BAR}" fill="${barFill(b.kind, 'kr')}" stroke="${BAR_STYLE[b.kind].hatched ? '#90a4ae' : 'none'}"><title>${escapeXml(`${b.label}: ${localTime(b.from)} to ${localTime(b.to)} (${durationWords(Date.parse(b.to) - Date.parse(b.from))})`)}</title></rect>`);
  }
  for (const m of t.marks) {
    const mx = x(m.at);
    if (m.row === null) {
      out.push(`<line x1="${mx.toFixed(1)}" y1="${TOP}" x2="${mx.toFixed(1)}" y2="${TOP + t.rows.length * ROW}" stroke="#6a1b9a" stroke-dasharray="4 3"><title>${escapeXml(`${localTime(m.at)}: ${m.label}`)}</title></line>`);
      continue;
    }
    const my = TOP + m.row * ROW + ROW / 2;
    out.push(`<path d="M${mx.toFixed(1)} ${my - 6} l5 6 l-5 6 l-5 -6 z" fill="#6a1b9a"><title>${escapeXml(`${localTime(m.at)}: ${m.label}`)}</title></path>`);
  }
  out.push('</svg>');
  return out.join('\n');
}

function tick(x: number, words: string, which: 'start' | 'end'): string {
  return `<line x1="${x.toFixed(1)}" y1="${TOP - 4}" x2="${x.toFixed(1)}" y2="${TOP}" stroke="#90a4ae"/>`
    + `<text x="${x.toFixed(1)}" y="${TOP - 8}" font-size="11" text-anchor="${which === 'start' ? 'start' : 'end'}" fill="#37474f">${escapeXml(words)}</text>`;
}
