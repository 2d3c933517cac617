import { quote } from './dot.js';
import { kbLabel, type OverviewChain } from './overview-chain.js';
import { MARK_WORDS, type OverviewOverlay, type StateOnRun } from './overview-overlay.js';
import { DETAIL_POINTER, MARK_ORDER, MARK_STYLE, OVERVIEW_TITLE } from './style.js';
import { wrapWords } from './wrap-words.js';
import { escapeXml } from '../../present/xml-escape.js';

export interface OverviewDotOptions {
  overlay?: OverviewOverlay | null;
  /** A `//` comment placed before the graph (the provenance line). */
  comment?: string;
}

/** Characters per line of the words on an arrow, and of the title's lines. */
const STEP_WIDTH = 62;
const TITLE_WIDTH = 150;
/**
 * Lines the next action may take in the title (a 1600×1000 window shows the picture whole): it
 * is `status`'s own next, which for a failed step is the error's advice and can be long; a longer
 * one keeps its beginning and its end, where the command is, with `...` between.
 */
const NEXT_LINES = 3;
/**
 * The next action is bold: its lines are kept shorter than the title's, since a browser without
 * Helvetica draws bold text wider than Graphviz measured it (DejaVu Sans Bold: about 10 % wider),
 * and the widest line sets the drawing's width.
 */
const NEXT_WIDTH = 120;
const INK = '#222222';
const QUIET = '#616161';

/**
 * The overview as Graphviz DOT: one column of six boxes (a 1600×1000 window shows it whole at
 * 100 %), the KB step leading into each written beside the arrow above it; with a run, each box
 * is filled in its mark's colour and says what the mark means, under a title naming the run,
 * the one command to run next and a legend.
 */
export function overviewDot(chain: OverviewChain, options: OverviewDotOptions = {}): string {
  const o = options.overlay ?? null;
  const lines: string[] = [];
  if (options.comment) lines.push(`// ${options.comment}`);
  lines.push('digraph "kms-recover overview" {');
  lines.push(`  graph [rankdir=TB, pad=0.25, nodesep=0.3, ranksep=0.22, fontname="Helvetica", labelloc=t, labeljust=l, label=<${titleTable(o)}>];`);
  lines.push(`  node [shape=box, style="rounded,filled", fillcolor="#ffffff", color=${quote(INK)}, fontname="Helvetica", fontcolor=${quote(INK)}, width=4.2, margin="0.18,0.07"];`);
  lines.push(`  edge [fontname="Helvetica", fontsize=12, fontcolor=${quote(INK)}, color=${quote(QUIET)}, arrowsize=0.8];`);
  lines.push('  "start" [shape=circle, style=filled, fillcolor="#222222", width=0.16, label=""];');
  chain.states.forEach((state) => {
    const on = o?.states.find((s) => s.state === state.state) ?? null;
    lines.push(`  ${quote(state.state)} [${nodeAttributes(kbLabel(state.kbSteps), state.state, on).join(', ')}];`);
  });
  chain.steps.forEach((step) => {
    const on = o?.states.find((s) => s.state === step.to) ?? null;
    const from = step.from ?? 'start';
    const attributes = [`label=<${stepTable(kbLabel(step.kbSteps), step.words)}>`];
    if (on && on.mark !== 'pending') attributes.push(`color=${quote(MARK_STYLE[on.mark].stroke)}`);
    if (on && on.mark !== 'pending' && on.mark !== 'done') attributes.push('penwidth=2.2');
    lines.push(`  ${quote(from)} -> ${quote(step.to)} [${attributes.join(', ')}];`);
  });
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

function nodeAttributes(label: string, state: string, on: StateOnRun | null): string[] {
  // One font per line: Graphviz places each run of text where its own font metrics put it, so a
  // bold run followed by a plain one overlaps when the browser's font is wider than Helvetica.
  const rows = [`<TR><TD ALIGN="LEFT"><FONT POINT-SIZE="15"><B>${html(`${label}: ${state}`)}</B></FONT></TD></TR>`];
  if (on) rows.push(`<TR><TD ALIGN="LEFT"><FONT POINT-SIZE="12">${html(on.words)}</FONT></TD></TR>`);
  // One width for every box, so that the lines of all six start at the same place.
  const attributes = [`label=<<TABLE BORDER="0" CELLSPACING="0" CELLPADDING="1" WIDTH="270">${rows.join('')}</TABLE>>`];
  if (on) {
    const style = MARK_STYLE[on.mark];
    attributes.push(`style=${quote(`rounded,filled${style.dashed ? ',dashed' : ''}`)}`, `fillcolor=${quote(style.fill)}`, `color=${quote(style.stroke)}`);
    if (on.mark !== 'done' && on.mark !== 'pending') attributes.push('penwidth=3');
    if (on.mark === 'pending') attributes.push(`fontcolor=${quote(QUIET)}`);
  }
  return attributes;
}

/** The title above the chain: what it is, and with a run where it stands, what to do and the legend. */
function titleTable(o: OverviewOverlay | null): string {
  const rows = [`<TR><TD ALIGN="LEFT"><FONT POINT-SIZE="18"><B>${html(OVERVIEW_TITLE)}</B></FONT></TD></TR>`];
  const row = (text: string, size: number, bold = false, maxLines = Infinity) => {
    const body = cutLines(text, maxLines, bold ? NEXT_WIDTH : TITLE_WIDTH).map(html).join('<BR ALIGN="LEFT"/>');
    rows.push(`<TR><TD ALIGN="LEFT" BALIGN="LEFT"><FONT POINT-SIZE="${size}">${bold ? `<B>${body}</B>` : body}</FONT></TD></TR>`);
  };
  if (o) {
    row(o.headline, 14);
    if (o.next) row(`Next: ${o.next}`, 14, true, NEXT_LINES);
    rows.push(`<TR><TD ALIGN="LEFT">${legendTable(o.timeZone)}</TD></TR>`);
  }
  rows.push(`<TR><TD ALIGN="LEFT"><FONT POINT-SIZE="11" COLOR="${QUIET}">${html(DETAIL_POINTER)}</FONT></TD></TR>`);
  return `<TABLE BORDER="0" CELLSPACING="0" CELLPADDING="3">${rows.join('')}</TABLE>`;
}

/** `text` in lines of `width` characters, at most `max` of them: beyond, its first lines and, on the last, `...` and as much of its end as fits. */
function cutLines(text: string, max: number, width: number): string[] {
  const lines = wrapWords(text, width);
  if (lines.length <= max) return lines;
  const words = text.split(/\s+/).filter(Boolean);
  const tail: string[] = [];
  while (words.length && ['...', ...tail, words.at(-1)!].join(' ').length <= width) tail.unshift(words.pop()!);
  return [...lines.slice(0, max - 1), ['...', ...tail].join(' ')];
}

function legendTable(timeZone: string): string {
  const cells = MARK_ORDER.map((mark) => {
    const s = MARK_STYLE[mark];
    const swatch = `<TD BGCOLOR="${s.fill}" COLOR="${s.stroke}" BORDER="2"${s.dashed ? ' STYLE="dashed"' : ''} WIDTH="22" HEIGHT="14"> </TD>`;
    // Room after the words for a browser font wider than the Helvetica Graphviz measures with.
    const room = `<TD WIDTH="${Math.ceil(MARK_WORDS[mark].length * 1.4)}"></TD>`;
    return `${swatch}<TD ALIGN="LEFT"><FONT POINT-SIZE="12">${html(MARK_WORDS[mark])}</FONT></TD>${room}`;
  });
  const zone = `<TD ALIGN="LEFT"><FONT POINT-SIZE="12" COLOR="${QUIET}">(times: local, ${html(timeZone)})</FONT></TD>`;
  return `<TABLE BORDER="0" CELLSPACING="4" CELLPADDING="1"><TR><TD ALIGN="LEFT"><FONT POINT-SIZE="12"><B>Legend:</B></FONT></TD><TD WIDTH="8"></TD>${cells.join('')}${zone}</TR></TABLE>`;
}

/** The words on an arrow, left-aligned, a little away from the arrow: `KB step 4: restore …` (one font, see nodeAttributes). */
function stepTable(label: string, words: string): string {
  const body = wrapWords(`${label}: ${words}`, STEP_WIDTH).map(html).join('<BR ALIGN="LEFT"/>');
  return `<TABLE BORDER="0" CELLSPACING="0" CELLPADDING="0"><TR><TD WIDTH="8"></TD><TD ALIGN="LEFT" BALIGN="LEFT">${body}</TD></TR></TABLE>`;
}

/** Text for a Graphviz HTML-like label: escaped as for HTML. */
const html = escapeXml;
