import { describe, expect, it } from 'vitest';
import { RECOVERY_STATES, recoveryMachine } from '../../machines/index.js';
import type { EventRecord } from '../../persistence/index.js';
import {
  edgeLabel, entryLeaf, machineGraph, mermaidIds, runOverlay, toDot, toMermaid, toTerminal, type OverlayRun,
} from '../../diagrams/render/index.js';
import { eventLog } from '../helpers/event-records.js';

const graph = machineGraph(recoveryMachine);

/** The event log of a run whose start was refused with a wrong alpha string: it rests in restored.failed. */
function failedRun(): { run: OverlayRun; events: EventRecord[] } {
  const event = eventLog();
  const events = [
    event('run.created', null, 'reinstalled', { backupFiles: 3 }),
    event('step.started', 'reinstalled', 'reinstalled', { step: 'stopService', attempt: 1 }),
    event('xstate.done.actor.stopService', 'reinstalled', 'stopped', { phase: 'working' }),
    event('step.started', 'stopped', 'stopped', { step: 'clearKmsdata', attempt: 1 }),
    event('drift.service-running', 'stopped', 'stopped', { step: 'clearKmsdata', service: 'MSExchangeKMS', serviceState: 'running' }),
    event('xstate.done.actor.clearKmsdata', 'stopped', 'cleared', { phase: 'working' }),
    event('step.started', 'cleared', 'cleared', { step: 'restoreKmsdata', attempt: 1 }),
    event('xstate.done.actor.restoreKmsdata', 'cleared', 'restored', { phase: 'working' }),
    event('step.started', 'restored', 'restored', { step: 'setCredential', attempt: 1 }),
    event('xstate.done.actor.setCredential', 'restored', 'credential-set', { phase: 'working' }),
    event('step.started', 'credential-set', 'credential-set', { step: 'startService', attempt: 1 }),
    event('xstate.error.actor.startService', 'credential-set', 'restored', { phase: 'failed', error: { code: 'ALPHA_REJECTED', message: 'no' } }),
  ];
  const run: OverlayRun = {
    id: 'abcd1234',
    state: 'restored', phase: 'failed',
    context: { lastError: { step: 'startService', code: 'ALPHA_REJECTED', message: 'no' } },
  };
  return { run, events };
}

describe('run overlay', () => {
  it('marks the visited nodes, the transitions taken, the current node and the failed step', () => {
    const { run, events } = failedRun();
    const o = runOverlay(graph, run, events);
    expect(o.current).toBe('restored.failed');
    expect(o.visited).toEqual([
      'reinstalled.working', 'stopped.working', 'cleared.working', 'restored.working', 'credential-set.working', 'restored.failed',
    ]);
    expect(o.taken.at(-1)).toEqual({ from: 'credential-set.working', to: 'restored.failed', event: 'xstate.error.actor.startService' });
    expect(o.failure).toEqual({ node: 'restored.failed', step: 'startService', code: 'ALPHA_REJECTED' });
  });
});

describe('Mermaid', () => {
  const text = toMermaid(graph, { comment: 'provenance' });
  const ids = mermaidIds(graph);

  it('is a stateDiagram-v2 with a composite per KB state, every node and every transition with its event and guard', () => {
    const lines = text.trimEnd().split('\n');
    expect(lines.slice(0, 4)).toEqual(['---', 'title: "kms-recover: recovery of an Exchange 5.5 KMS (KB Q198814)"', '---', 'stateDiagram-v2']);
    expect(text).toContain('    %% provenance\n');
    expect(text).toContain('    [*] --> reinstalled\n');
    expect(text).toContain('    running --> [*]\n');
    for (const node of graph.nodes) expect(text).toMatch(new RegExp(`state "${node.key}[^"]*" as ${ids.get(node.id)}( \\{)?\\n`));
    for (const s of RECOVERY_STATES.slice(0, 5)) expect(text).toContain(`[*] --> ${ids.get(`${s}.entering`)}\n`);
    for (const e of graph.edges) expect(text).toContain(`${ids.get(e.source)} --> ${ids.get(e.target)} : ${edgeLabel(e)}\n`);
    expect(text).toContain('credential_set_working --> restored_failed : xstate.error.actor.startService [alphaWasRejected]\n');
    // Every line is one Mermaid statement; the composites are balanced.
    expect(lines.filter((l) => l.trimEnd().endsWith('{')).length).toBe(lines.filter((l) => l.trim() === '}').length);
    for (const line of lines.slice(4)) {
      expect(line).toMatch(/^\s*(%% .*|\[\*\] --> \w+|\w+ --> (\w+|\[\*\])( : [^;#\n]+)?|state "[^"]+" as \w+( \{)?|\}|classDef \w+ .+|class [\w,]+ \w+)$/);
    }
    expect(new Set(ids.values()).size).toBe(graph.nodes.length);
    expect([...ids.values()].every((id) => /^\w+$/.test(id))).toBe(true);
  });

  it('with a run: visited, current or failed classes, and the run in the title', () => {
    const { run, events } = failedRun();
    const overlay = toMermaid(graph, { overlay: runOverlay(graph, run, events) });
    expect(overlay).toContain('title: "kms-recover: recovery of an Exchange 5.5 KMS (KB Q198814), run abcd1234: restored, step startService failed: the alpha string was refused (ALPHA_REJECTED)"');
    expect(overlay).toMatch(/classDef failed fill:#f9d0d0/);
    expect(overlay).toContain('    class reinstalled_working,stopped_working,cleared_working,restored_working,credential_set_working visited\n');
    expect(overlay).toContain('    class restored_failed failed\n');
    expect(overlay).not.toContain(' current\n');
  });
});

describe('DOT', () => {
  const text = toDot(graph, { comment: 'provenance' });

  it('is a digraph with a cluster per KB state, every node and every transition, compound targets clipped at their cluster', () => {
    expect(text.startsWith('// provenance\ndigraph "recovery" {\n')).toBe(true);
    expect(text.endsWith('}\n')).toBe(true);
    expect(text.split('{').length).toBe(text.split('}').length);
    for (const s of RECOVERY_STATES.slice(0, 5)) expect(text).toContain(`subgraph "cluster_${s}" {`);
    for (const n of graph.nodes.filter((n) => n.children.length === 0)) expect(text).toContain(`  "${n.id}" [label="${n.key}`);
    expect(text).toMatch(/"running" \[label="running\\nKB step 7, final", peripheries=2\]/);
    for (const e of graph.edges) {
      const target = entryLeaf(graph, e.target);
      const source = entryLeaf(graph, e.source);
      const line = text.split('\n').find((l) => l.startsWith(`  "${source}" -> "${target}" [label="${edgeLabel(e)}"`));
      expect(line, edgeLabel(e)).toBeDefined();
      if (target !== e.target) expect(line).toContain(`lhead="cluster_${e.target}"`);
      if (source !== e.source) expect(line).toContain(`ltail="cluster_${e.source}"`);
    }
    expect(text).toContain('"__initial" -> "reinstalled.__initial" [lhead="cluster_reinstalled"];');
  });

  it('with a run: the failed node in its own colour, visited nodes filled, the title names the run', () => {
    const { run, events } = failedRun();
    const overlay = toDot(graph, { overlay: runOverlay(graph, run, events) });
    expect(overlay).toContain('\\nrun abcd1234: restored, step startService failed: the alpha string was refused (ALPHA_REJECTED)"');
    expect(overlay).toMatch(/"restored\.failed" \[label="failed", style="rounded,filled,bold", fillcolor="#f9d0d0", color="#c62828", penwidth=3\]/);
    expect(overlay).toMatch(/"stopped\.working" \[label="working\\ninvokes clearKmsdata", style="rounded,filled", fillcolor="#d8f0dc"/);
    expect(overlay).toMatch(/"running" \[label="running\\nKB step 7, final", peripheries=2\]/); // not reached: unfilled
  });

  it('is the same text every time (no timestamps, stable order)', () => {
    expect(toDot(machineGraph(recoveryMachine), { comment: 'provenance' })).toBe(text);
    expect(toMermaid(machineGraph(recoveryMachine))).toBe(toMermaid(graph));
  });
});

describe('terminal view', () => {
  it('prints the state chain in order with the step of each state and its transitions', () => {
    const text = toTerminal(graph);
    const chain = text.split('\n').filter((l) => /^\s{2}( o |\[.\]) /.test(l)).map((l) => l.slice(6).split(/\s+/)[0]);
    expect(chain).toEqual([...RECOVERY_STATES]);
    expect(text).toContain('runs stopService');
    expect(text).toContain('done [serviceIsStopped] -> stopped');
    expect(text).toContain('working: error [alphaWasRejected] -> restored.failed');
    expect(text).toContain('failed: RETRY -> working');
    expect(text).toMatch(/running\s+KB step 7\s+final state/);
    expect(text).not.toMatch(/\[[x>!]\]/);
    expect(text.split('\n').every((l) => l.length <= 160 && /^[\x20-\x7e]*$/.test(l))).toBe(true); // plain ASCII
  });

  it('marks where a run stands: passed states, the failed current one, the states not reached', () => {
    const { run, events } = failedRun();
    const text = toTerminal(graph, { overlay: runOverlay(graph, run, events) });
    expect(text).toContain('Run abcd1234: restored, step startService failed: the alpha string was refused (ALPHA_REJECTED)');
    const marks = Object.fromEntries(text.split('\n').filter((l) => /^\s{2}\[.\] /.test(l)).map((l) => [l.slice(6).split(/\s+/)[0], l.slice(2, 5)]));
    expect(marks).toEqual({ reinstalled: '[x]', stopped: '[x]', cleared: '[x]', restored: '[!]', 'credential-set': '[x]', running: '[ ]' });
    expect(text).toMatch(/\[!\] restored .*<== run abcd1234 is here: restored\.failed, the alpha string was refused \(ALPHA_REJECTED\), waiting for RETRY/);
  });

  it('marks a run in progress with [>] and a finished one as passed everywhere', () => {
    const { run, events } = failedRun();
    const working = toTerminal(graph, { overlay: runOverlay(graph, { ...run, state: 'cleared', phase: 'working' }, events.slice(0, 6)) });
    expect(working).toMatch(/\[>\] cleared .*<== run abcd1234 is here: cleared\.working/);
    const done = toTerminal(graph, { overlay: runOverlay(graph, { ...run, state: 'running', phase: 'done' }, events) });
    expect(done).toMatch(/\[x\] running .*<== run abcd1234 ended here/);
  });
});
