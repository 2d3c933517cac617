import type { StateMark } from './overview-overlay.js';

/** The overlay colours, shared by the Mermaid and DOT renderings so both read the same. */
export const OVERLAY_COLOURS = {
  visited: { fill: '#d8f0dc', stroke: '#2e7d32' },
  current: { fill: '#fff1a8', stroke: '#b8860b' },
  failed: { fill: '#f9d0d0', stroke: '#c62828' },
} as const;

export const DIAGRAM_TITLE = 'kms-recover: recovery of an Exchange 5.5 KMS (KB Q198814)';

/** The line that says where a diagram comes from (no timestamp: the output must be reproducible). */
export function provenance(machineId: string, version: number, hash: string): string {
  return `Generated from the XState machine "${machineId}" (machine v${version}, definition ${hash}) by kms-recover diagram; regenerate with npm run diagrams, do not edit.`;
}

/** The overview's title (plain words: no machine, no XState). */
export const OVERVIEW_TITLE = 'Recovery of an Exchange 5.5 Key Management Server (Microsoft KB Q198814)';

/** Where the engineers' diagram is, said under every overview. */
export const DETAIL_POINTER = 'The full state machine (substates, events, guards) for engineers: kms-recover diagram --detail, diagrams/recovery-detail.svg';

/** How each mark of the overview is drawn: colours for Mermaid, DOT and SVG, a box mark for the terminal. */
export const MARK_STYLE: Record<StateMark, { fill: string; stroke: string; dashed: boolean; box: string }> = {
  done: { fill: '#d8f0dc', stroke: '#2e7d32', dashed: false, box: '[x]' },
  working: { fill: '#fff1a8', stroke: '#b8860b', dashed: false, box: '[>]' },
  interrupted: { fill: '#ffe0b2', stroke: '#e65100', dashed: true, box: '[~]' },
  waiting: { fill: '#d4e6ff', stroke: '#1565c0', dashed: false, box: '[?]' },
  failed: { fill: '#f9d0d0', stroke: '#c62828', dashed: false, box: '[!]' },
  pending: { fill: '#ffffff', stroke: '#9e9e9e', dashed: false, box: '[ ]' },
};

/** The marks in the legend's order. */
export const MARK_ORDER: StateMark[] = ['done', 'working', 'interrupted', 'waiting', 'failed', 'pending'];
