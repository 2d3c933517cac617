import { describe, expect, it } from 'vitest';
import { RECOVERY_STATES, recoveryMachine } from '../../machines/index.js';
import { machineGraph, renderDetail, runOverlay, type OverlayRun } from '../../diagrams/render/index.js';
import { parseSvg } from '../helpers/svg.js';

const graph = machineGraph(recoveryMachine);

function texts(doc: ReturnType<typeof parseSvg>): string[] {
  return Array.from(doc.getElementsByTagName('text')).map((t) => t.textContent ?? '');
}

describe('the detailed SVG (--detail, rendered in-process by Graphviz compiled to WebAssembly)', () => {
  it('is well-formed SVG and names every state, every step and every guard', async () => {
    const svg = await renderDetail('svg');
    expect(svg.startsWith('<?xml')).toBe(true);
    const doc = parseSvg(svg);
    const root = doc.documentElement!;
    expect(root.nodeName).toBe('svg');
    expect(root.getAttribute('xmlns')).toBe('http://www.w3.org/2000/svg');
    expect(Number.parseFloat(root.getAttribute('width') ?? '0')).toBeGreaterThan(100);
    const words = texts(doc);
    for (const state of RECOVERY_STATES) expect(words.some((t) => t.startsWith(state)), state).toBe(true);
    for (const sub of ['working', 'failed']) expect(words.filter((t) => t === sub || t.startsWith(`${sub} `)).length, sub).toBeGreaterThanOrEqual(5);
    for (const node of graph.nodes) for (const inv of node.invoke) expect(words).toContain(`invokes ${inv.src}`);
    for (const guard of graph.guards) expect(words.some((t) => t.includes(`[${guard}`)), guard).toBe(true);
    expect(words.filter((t) => t === 'RETRY')).toHaveLength(5);
    // One Graphviz node per atomic state and one edge per transition (plus the initial arrows).
    const titles = Array.from(doc.getElementsByTagName('g')).filter((g) => g.getAttribute('class') === 'node').length;
    expect(titles).toBe(graph.nodes.filter((n) => n.children.length === 0).length + 1 + 5);
    const edges = Array.from(doc.getElementsByTagName('g')).filter((g) => g.getAttribute('class') === 'edge').length;
    expect(edges).toBe(graph.edges.length + 1 + 5);
  }, 60_000);

  it('with a run: the title names it and the failed step is drawn in its own colour', async () => {
    const created = '2024-01-01T00:00:00.000Z';
    const failedAt = '2024-01-01T00:00:02.000Z';
    const run: OverlayRun = {
      id: 'feed0001',
      state: 'stopped', phase: 'failed',
      context: { lastError: { step: 'clearKmsdata', code: 'FILE_IN_USE', message: 'open' } },
    };
    const overlay = runOverlay(graph, run, [
      { seq: 1, event: 'run.created', from: null, to: 'reinstalled', at: created, detail: null },
      { seq: 2, event: 'xstate.done.actor.stopService', from: 'reinstalled', to: 'stopped', at: created, detail: { phase: 'working' } },
      { seq: 3, event: 'xstate.error.actor.clearKmsdata', from: 'stopped', to: 'stopped', at: failedAt, detail: { phase: 'failed' } },
    ]);
    const doc = parseSvg(await renderDetail('svg', overlay));
    expect(texts(doc)).toContain('run feed0001: stopped, step clearKmsdata failed: a file in Kmsdata is in use (FILE_IN_USE)');
    const failed = Array.from(doc.getElementsByTagName('g')).find((g) => g.getElementsByTagName('title')[0]?.textContent === 'stopped.failed')!;
    expect(failed.getElementsByTagName('path')[0]?.getAttribute('fill')).toBe('#f9d0d0');
    const visited = Array.from(doc.getElementsByTagName('g')).find((g) => g.getElementsByTagName('title')[0]?.textContent === 'reinstalled.working')!;
    expect(visited.getElementsByTagName('path')[0]?.getAttribute('fill')).toBe('#d8f0dc');
  }, 60_000);
});
