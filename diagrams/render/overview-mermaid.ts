import { kbLabel, type OverviewChain } from './overview-chain.js';
import { MARK_WORDS, type OverviewOverlay } from './overview-overlay.js';
import { DETAIL_POINTER, MARK_ORDER, MARK_STYLE, OVERVIEW_TITLE } from './style.js';

export interface OverviewMermaidOptions {
  overlay?: OverviewOverlay | null;
  /** A comment placed after the header (the provenance line). */
  comment?: string;
}

/**
 * The overview as a Mermaid `stateDiagram-v2`: the six KB states top to bottom, each arrow
 * labelled with the KB step it is; with a run, each state says where it stands, is coloured by
 * its mark, the current one says what to run next, and a legend stands apart from the chain.
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
    // What to do now, on the state it is about.
    if (on && o?.next && on.mark !== 'done' && on.mark !== 'pending') lines.push(`    ${id(state.state)} : next: ${text(o.next)}`);
  }
  for (const step of chain.steps) {
    lines.push(`    ${step.from ? id(step.from) : '[*]'} --> ${id(step.to)} : ${text(`${kbLabel(step.kbSteps)}: ${step.words}`)}`);
  }
  const last = chain.states.at(-1);
  if (last?.final) lines.push(`    ${id(last.state)} --> [*]`);
  if (o) {
    // The legend: one small state per mark, in the mark's colours, apart from the chain.
    lines.push(`    state "Legend (times are local, ${text(o.timeZone)})" as legend {`);
    lines.push('        direction LR');
    for (const mark of MARK_ORDER) lines.push(`        state "${text(MARK_WORDS[mark])}" as ${legendId(mark)}`);
    lines.push('    }');
    for (const mark of MARK_ORDER) {
      const s = MARK_STYLE[mark];
      const current = mark !== 'done' && mark !== 'pending';
      lines.push(`    classDef ${mark} fill:${s.fill},stroke:${s.stroke}${current ? ',stroke-width:3px,font-weight:bold' : ''}${s.dashed ? ',stroke-dasharray:6 3' : ''}${mark === 'pending' ? ',color:#616161' : ''}`);
    }
    for (const mark of MARK_ORDER) {
      const ids = [...o.states.filter((s) => s.mark === mark).map((s) => id(s.state)), legendId(mark)];
      lines.push(`    class ${ids.join(',')} ${mark}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** `legendDone`, `legendWorking`: apart from the states' ids, and no `_working` that reads like a substate. */
function legendId(mark: string): string {
  return `legend${mark.charAt(0).toUpperCase()}${mark.slice(1)}`;
}

/** Mermaid ends a label at a newline, reads `;` and `#` specially and a `"` ends a quoted name. */
function text(words: string): string {
  return words.replace(/[\r\n]+/g, ' ').replace(/;/g, ',').replace(/#/g, '').replace(/"/g, "'");
}
