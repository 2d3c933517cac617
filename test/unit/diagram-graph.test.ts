import { describe, expect, it } from 'vitest';
import { setup } from 'xstate';
import { RECOVERY_STATES, STEP_OF_STATE, recoveryMachine } from '../../machines/index.js';
import { edgeLabel, entryLeaf, machineGraph, topLevelOrder } from '../../diagrams/render/index.js';

const graph = machineGraph(recoveryMachine);
const STEP_STATES = RECOVERY_STATES.filter((s) => s !== 'running');

/** An independent reading of the same machine: the JSON definition XState serialises. */
interface DefNode { key: string; type: string; states: Record<string, DefNode>; on: Record<string, { target?: string[]; guard?: { type: string } }[]> }
function definitionEdges(): { source: string; event: string; target: string; guard: string | null }[] {
  const out: { source: string; event: string; target: string; guard: string | null }[] = [];
  const walk = (node: DefNode, path: string[]) => {
    for (const [event, transitions] of Object.entries(node.on)) {
      for (const t of transitions) {
        for (const target of t.target ?? []) {
          out.push({ source: path.join('.'), event, target: target.replace(/^#recovery\./, ''), guard: t.guard?.type ?? null });
        }
      }
    }
    for (const [key, child] of Object.entries(node.states)) walk(child, [...path, key]);
  };
  const definition = JSON.parse(JSON.stringify(recoveryMachine.definition)) as DefNode;
  for (const [key, child] of Object.entries(definition.states)) walk(child, [key]);
  return out;
}

describe('machine graph (walked from the XState definition)', () => {
  it('finds exactly the six states, each step state with its choice, waiting, working and failed, and running as the only final state', () => {
    expect(graph.machineId).toBe('recovery');
    expect(graph.initial).toBe('reinstalled');
    expect(graph.nodes.filter((n) => n.parent === null).map((n) => n.id)).toEqual([...RECOVERY_STATES]);
    expect(graph.nodes.map((n) => n.id).sort()).toEqual([
      ...RECOVERY_STATES, ...STEP_STATES.flatMap((s) => [`${s}.entering`, `${s}.waiting`, `${s}.working`, `${s}.failed`]),
    ].sort());
    expect(graph.finals).toEqual(['running']);
    for (const s of STEP_STATES) {
      const node = graph.nodes.find((n) => n.id === s)!;
      expect(node).toMatchObject({ type: 'compound', initial: `${s}.entering`, children: [`${s}.entering`, `${s}.waiting`, `${s}.working`, `${s}.failed`] });
      // The eventless choice: the operator's step waits, the tool's is worked at once.
      expect(graph.edges.filter((e) => e.source === `${s}.entering`).map((e) => [e.kind, e.guard, e.target])).toEqual([
        ['always', 'awaitsOperator', `${s}.waiting`], ['always', null, `${s}.working`],
      ]);
      expect(graph.nodes.find((n) => n.id === `${s}.working`)!.invoke).toEqual([{ id: STEP_OF_STATE[s], src: STEP_OF_STATE[s] }]);
    }
    expect(topLevelOrder(graph).map((n) => n.id)).toEqual([...RECOVERY_STATES]);
    expect(graph.nodes.filter((n) => n.parent === null).map((n) => n.kbSteps)).toEqual(['1', '2', '3', '4', '5-6', '7']);
  });

  it('finds exactly the transitions of the definition, with their events, guards and targets', () => {
    const fromGraph = graph.edges.filter((e) => e.kind !== 'always').map(({ source, event, target, guard }) => ({ source, event, target, guard }));
    expect(fromGraph).toEqual(definitionEdges());
    // Per step: the choice's two edges, CONFIRM, done ok, done rejected, found not done, error,
    // RETRY; the alpha back edge; the three drift edges back to the clear (restore, credential,
    // start); REWIND from each state to each earlier one.
    expect(graph.edges).toHaveLength(5 * 8 + 1 + 3 + (1 + 2 + 3 + 4));
  });

  it('names every guard of the machine, and only those', () => {
    expect([...graph.guards].sort()).toEqual(Object.keys(recoveryMachine.implementations.guards).sort());
    expect([...graph.guards].sort()).toEqual(['alphaWasRejected', 'awaitsOperator', 'confirmsStep', 'credentialIsWellFormed', 'kmsdataDrifted', 'kmsdataIsEmpty',
      'operatorStepNotDone', 'restoreMatchesBackup', 'rewindTargetIs', 'serviceIsRunning', 'serviceIsStopped']);
  });

  it('reads done/error events of each invoked step, RETRY from each failed state, and the fallbacks after a guard', () => {
    expect(graph.events).toEqual(expect.arrayContaining(['RETRY', ...Object.values(STEP_OF_STATE).flatMap((s) => [`xstate.done.actor.${s}`, `xstate.error.actor.${s}`])]));
    expect(graph.events).toEqual(expect.arrayContaining(['CONFIRM', 'always']));
    expect(graph.events).toHaveLength(14);
    const rewinds = graph.edges.filter((e) => e.event === 'REWIND');
    expect(rewinds.map((e) => `${e.source}>${e.target} ${JSON.stringify(e.guardParams)}`)).toEqual(expect.arrayContaining([
      'stopped>reinstalled {"target":"reinstalled"}', 'credential-set>restored {"target":"restored"}',
    ]));
    for (const e of rewinds) {
      expect(RECOVERY_STATES.indexOf(e.target.split('.')[0] as never)).toBeLessThan(RECOVERY_STATES.indexOf(e.source as never));
      expect(e.guardParams).toEqual({ target: e.target.split('.')[0] });
    }
    for (const s of STEP_STATES) {
      expect(graph.edges).toContainEqual(expect.objectContaining({ source: `${s}.failed`, event: 'RETRY', target: `${s}.working`, kind: 'event', guard: null }));
    }
    const stop = graph.edges.filter((e) => e.source === 'reinstalled.working');
    expect(stop.map((e) => [e.kind, e.actor, e.guard, e.otherwise, e.target])).toEqual([
      ['done', 'stopService', 'serviceIsStopped', [], 'stopped'],
      ['done', 'stopService', null, ['serviceIsStopped'], 'reinstalled.failed'],
      ['error', 'stopService', 'operatorStepNotDone', [], 'reinstalled.waiting'],
      ['error', 'stopService', null, ['operatorStepNotDone'], 'reinstalled.failed'],
    ]);
    expect(graph.edges.filter((e) => e.event === 'CONFIRM').map((e) => [e.source, e.guard, e.target])).toEqual(
      STEP_STATES.map((s) => [`${s}.waiting`, 'confirmsStep', `${s}.working`]));
    const back = graph.edges.find((e) => e.guard === 'alphaWasRejected')!;
    expect(back).toMatchObject({ source: 'credential-set.working', target: 'restored.failed', kind: 'error', actor: 'startService' });
    expect(edgeLabel(back)).toBe('xstate.error.actor.startService [alphaWasRejected]');
    expect(edgeLabel(graph.edges.find((e) => e.source === 'credential-set.working' && e.kind === 'error' && !e.guard)!))
      .toBe('xstate.error.actor.startService [!operatorStepNotDone && !kmsdataDrifted && !alphaWasRejected]');
    expect(entryLeaf(graph, 'stopped')).toBe('stopped.entering');
    expect(entryLeaf(graph, 'running')).toBe('running');
  });

  it('walks any machine: string, object and inline guards, eventless transitions, a final state', () => {
    const small = setup({ guards: { ready: () => true } }).createMachine({
      id: 'small',
      initial: 'a',
      states: {
        a: { on: { GO: [{ guard: 'ready', target: 'b' }, { guard: function isLate() { return false; }, target: 'c' }, { target: 'a' }] } },
        b: { always: { target: 'c' } },
        c: { type: 'final' },
      },
    });
    const g = machineGraph(small);
    expect(g.edges.map((e) => [e.source, e.event, e.guard, e.otherwise, e.target])).toEqual([
      ['a', 'GO', 'ready', [], 'b'],
      ['a', 'GO', 'isLate', [], 'c'],
      ['a', 'GO', null, ['ready', 'isLate'], 'a'],
      ['b', 'always', null, [], 'c'],
    ]);
    expect(g.finals).toEqual(['c']);
  });
});
