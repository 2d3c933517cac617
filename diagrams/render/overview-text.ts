import { kbLabel, type OverviewChain } from './overview-chain.js';
import { MARK_WORDS, type OverviewOverlay } from './overview-overlay.js';
import { DETAIL_POINTER, MARK_ORDER, MARK_STYLE, OVERVIEW_TITLE } from './style.js';
import { wrapWords } from './wrap-words.js';

/**
 * The overview for a terminal: the six KB states top to bottom, the KB step leading into each
 * written on the arrow above it, and with a run each state's mark and what it means.
 */
export function overviewText(chain: OverviewChain, overlay: OverviewOverlay | null): string {
  const lines: string[] = [OVERVIEW_TITLE];
  if (overlay) {
    lines.push(overlay.headline);
    if (overlay.next) lines.push(`Next: ${overlay.next}`);
  } else {
    lines.push('No run shown (give --run <id>, or run it beside a kms-recover database).');
  }
  lines.push('', '  (start)');
  const labelWidth = Math.max(...chain.states.map((s) => kbLabel(s.kbSteps).length));
  const nameWidth = Math.max(...chain.states.map((s) => s.state.length));
  chain.states.forEach((state, i) => {
    const step = chain.steps[i]!;
    lines.push('     |');
    wrapWords(`${kbLabel(step.kbSteps)}: ${step.words}`, 90).forEach((line) => lines.push(`     |  ${line}`));
    lines.push('     v');
    const on = overlay?.states.find((s) => s.state === state.state) ?? null;
    const box = on ? MARK_STYLE[on.mark].box : ' o ';
    const row = `  ${box} ${kbLabel(state.kbSteps).padEnd(labelWidth)}  ${state.state.padEnd(nameWidth)}  ${on ? on.words : ''}`;
    lines.push(row.trimEnd());
  });
  lines.push('');
  if (overlay) {
    lines.push(`Legend: ${MARK_ORDER.map((m) => `${MARK_STYLE[m].box} ${MARK_WORDS[m]}`).join('   ')}`);
    lines.push(`Times are local (${overlay.timeZone}).`);
  }
  lines.push(DETAIL_POINTER);
  return `${lines.join('\n')}\n`;
}
