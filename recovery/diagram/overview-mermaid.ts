import { kbLabel, type OverviewChain } from './overview-chain.js';
import { MARK_WORDS, type OverviewOverlay } from './overview-overlay.js';
import { DETAIL_POINTER, MARK_ORDER, MARK_STYLE, OVERVIEW_TITLE } from './style.js';

export interface OverviewMermaidOptions {
  overlay?: OverviewOverlay | null;
  /** A comment placed after the header (the provenance line). */
  comment?: string;
}

/** The colour names the legend note gives (Mermaid notes cannot show a swatch). */
const COLOUR_NAMES: Record<(typeof MARK_ORDER)[number], string> = {
  done: 'green', working: 'yellow', interrupted: 'orange, dashed', waiting: 'blue', failed: 'red', pending: 'white',
};

/**
 * The overview as a Mermaid `stateDiagram-v2`: the six KB states top to bottom, each arrow
 * labelled with the KB step it is; with a run, each state says where it stands, is coloured by
 * its mark, and a note beside the chain is the legend.
 */
export function overviewMermaid(chain: OverviewChain, options: OverviewMermaidOptions = {}): string {
  const o = options.overlay ?? null;
  const id = (state: string) => state.replace(/[^A-Za-z0-9]+/g, '_');
  const title = o ? `${OVERVIEW_TITLE}. ${o.headline}` : OVERVIEW_TITLE;
  const lines = ['---', `title: ${JSON.stringify(text(title))}`, '---', 'stateDiagram-v2'];
  if (options.comment) lines.push(`    %% ${options.comment}`);
  lines.push(`    %% ${DETAIL_POINTER}`);
  lines.push('    direction TB');
  for (const state of chain.states) {
    lines.push(`    state "${text(`${kbLabel(state.kbSteps)}: ${state.state}`)}" as ${id(state.state)}`);
    const on = o?.states.find((s) => s.state === state.state);
    if (on) lines.push(`    ${id(state.state)} : ${text(on.words)}`);
  }
  for (const step of chain.steps) {
    lines.push(`    ${step.from ? id(step.from) : '[*]'} --> ${id(step.to)} : ${text(`${kbLabel(step.kbSteps)}: ${step.words}`)}`);
  }
  const last = chain.states.at(-1);
  if (last?.final) lines.push(`    ${id(last.state)} --> [*]`);
  if (o) {
    const first = chain.states[0]!;
    lines.push(`    note right of ${id(first.state)}`);
    if (o.next) lines.push(`        Next: ${text(o.next)}`);
    lines.push(`        Legend: ${MARK_ORDER.map((m) => `${COLOUR_NAMES[m]} = ${MARK_WORDS[m]}`).join(', ')}`);
    lines.push(`        Times are local (${o.timeZone})`);
    lines.push('    end note');
    for (const mark of MARK_ORDER) {
      const s = MARK_STYLE[mark];
      const current = mark !== 'done' && mark !== 'pending';
      lines.push(`    classDef ${mark} fill:${s.fill},stroke:${s.stroke}${current ? ',stroke-width:3px,font-weight:bold' : ''}${s.dashed ? ',stroke-dasharray:6 3' : ''}${mark === 'pending' ? ',color:#616161' : ''}`);
    }
    for (const mark of MARK_ORDER) {
      const ids = o.states.filter((s) => s.mark === mark).map((s) => id(s.state));
      if (ids.length) lines.push(`    class ${ids.join(',')} ${mark}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** Mermaid ends a label at a newline, reads `;` and `#` specially and a `"` ends a quoted name. */
function text(words: string): string {
  return words.replace(/[\r\n]+/g, ' ').replace(/;/g, ',').replace(/#/g, '').replace(/"/g, "'");
}
