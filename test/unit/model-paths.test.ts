import { getSimplePaths } from '@xstate/graph';
import { describe, expect, it } from 'vitest';
import { initialTransition, transition, type AnyEventObject, type SnapshotFrom } from 'xstate';
import { KmsRecoverError } from '../../errors/index.js';
import {
  alphaWasRejected, awaitsOperator, confirmCovers, credentialIsWellFormed, kmsdataDrifted, operatorStepNotDone, STEP_NAMES, kmsdataIsEmpty, positionOf, recoveryMachine, restoreMatchesBackup, rewindTargetIs,
  serviceIsRunning, serviceIsStopped, RECOVERY_STATES, STEP_OF_STATE, type RecoveryContext, type RecoveryInput,
  type RecoveryState, type StepName, type StepOutputs,
} from '../../machines/index.js';
import { machineGraph, nodeOfPosition, type GraphEdge } from '../../diagrams/render/index.js';

/**
 * Model-based tests: @xstate/graph enumerates every simple path through the recovery machine
 * from `reinstalled`, with each step able to succeed, report facts its guard rejects, or throw
 * (startService also with ALPHA_REJECTED), and RETRY from every failed state. Each path is then
 * replayed on the pure machine (xstate's `transition`, no actors run) and checked event by event.
 * Twice: with the tool doing every step, and with every step the operator's (`--manual`), where
 * each state waits for a CONFIRM and a step found not done goes back to waiting.
 */

type Snapshot = SnapshotFrom<typeof recoveryMachine>;

const toolInput: RecoveryInput = {
  serviceName: 'MSExchangeKMS',
  kmsdata: 'C:\\exchsrvr\\Kmsdata',
  backup: 'D:\\backup\\Kmsdata',
  backupManifest: { fileCount: 2, totalBytes: 10, digest: 'a'.repeat(64) }, kmsdataIdentity: null, manual: [],
};
const operatorInput: RecoveryInput = { ...toolInput, manual: [...STEP_NAMES] };

/** For each step: facts its guard accepts, facts its guard rejects. */
const outcomes: { [K in StepName]: { accepted: StepOutputs[K]; rejected: StepOutputs[K] } } = {
  stopService: { accepted: { serviceState: 'stopped' }, rejected: { serviceState: 'running' } },
  clearKmsdata: { accepted: { removed: 5, remaining: 0 }, rejected: { removed: 3, remaining: 2 } },
  restoreKmsdata: {
    accepted: { fileCount: 2, totalBytes: 10, digest: 'a'.repeat(64), mismatches: [], alreadyRestored: false },
    rejected: { fileCount: 2, totalBytes: 10, digest: 'b'.repeat(64), mismatches: ['kms.edb'], alreadyRestored: false },
  },
  setCredential: { accepted: { source: 'startup-disk', length: 14 }, rejected: { source: 'environment', length: 12 } },
  startService: { accepted: { serviceState: 'running' }, rejected: { serviceState: 'stopped' } },
};

const STEPS = Object.values(STEP_OF_STATE) as StepName[];
const plainError = (step: StepName) => ({ code: 'FILE_IN_USE', message: `${step} failed` });
const EVENTS: AnyEventObject[] = [
  ...STEPS.flatMap((step) => [
    { type: `xstate.done.actor.${step}`, output: outcomes[step].accepted },
    { type: `xstate.done.actor.${step}`, output: outcomes[step].rejected },
    { type: `xstate.error.actor.${step}`, error: plainError(step) },
  ]),
  { type: 'xstate.error.actor.startService', error: new KmsRecoverError('ALPHA_REJECTED', 'the alpha string does not match') },
  // Kmsdata found changed after the restore (or written into after the clear): clear and restore again.
  { type: 'xstate.error.actor.restoreKmsdata', error: new KmsRecoverError('KMSDATA_NOT_EMPTY', 'Kmsdata is not empty') },
  { type: 'xstate.error.actor.setCredential', error: new KmsRecoverError('KMSDATA_DRIFT', 'Kmsdata differs from the backup') },
  { type: 'xstate.error.actor.startService', error: new KmsRecoverError('KMSDATA_DRIFT', 'Kmsdata differs from the backup') },
  { type: 'RETRY' },
];
/** The operator's events: each step's CONFIRM, and a confirmed step found not done. */
const OPERATOR_EVENTS: AnyEventObject[] = [
  ...STEPS.map((step) => ({ type: 'CONFIRM', step })),
  ...STEPS.map((step) => ({ type: `xstate.error.actor.${step}`, error: new KmsRecoverError('MANUAL_STEP_UNVERIFIED', `${step} is not done`) })),
];

/**
 * `resume --from`: back to each earlier state. A REWIND always lands on a vertex the path has
 * already visited (the state's `working`, no error), so simple paths never take it; it is
 * checked instead from every vertex those paths reach (the machine must refuse any direction
 * but back).
 */
const REWINDS: AnyEventObject[] = RECOVERY_STATES.map((to) => ({ type: 'REWIND', to }));
const DRIFTS = EVENTS.filter((e) => ['KMSDATA_DRIFT', 'KMSDATA_NOT_EMPTY'].includes((e.error as { code?: string } | undefined)?.code ?? ''));
const STATE_OF_STEP = Object.fromEntries(Object.entries(STEP_OF_STATE).map(([state, step]) => [step, state])) as Record<StepName, RecoveryState>;

/** The guards, evaluated independently of the machine on what each event carries. */
const GUARDS: Record<string, (event: AnyEventObject, context: RecoveryContext, params: Record<string, unknown> | null) => boolean> = {
  serviceIsStopped: (e) => serviceIsStopped(e.output),
  kmsdataIsEmpty: (e) => kmsdataIsEmpty(e.output),
  restoreMatchesBackup: (e, c) => restoreMatchesBackup(e.output, c.backupManifest),
  credentialIsWellFormed: (e) => credentialIsWellFormed(e.output),
  serviceIsRunning: (e) => serviceIsRunning(e.output),
  alphaWasRejected: (e) => alphaWasRejected(e.error),
  kmsdataDrifted: (e, c) => kmsdataDrifted(e.error, c.driftRedos),
  rewindTargetIs: (e, _c, p) => e.type === 'REWIND' && rewindTargetIs(e.to, String(p?.target)),
  awaitsOperator: (_e, c, p) => awaitsOperator(p?.step as StepName, c.manual, c.confirmed),
  confirmsStep: (e, c, p) => e.type === 'CONFIRM' && confirmCovers(e.step, p?.step as StepName, c.manual) !== null,
  operatorStepNotDone: (e) => operatorStepNotDone(e.error),
};

const graph = machineGraph(recoveryMachine);
const nodeOf = (s: Snapshot) => {
  const p = positionOf(s.value);
  return nodeOfPosition(graph, p.state, p.phase);
};
const topOf = (s: Snapshot) => positionOf(s.value).state;

interface Model {
  name: string;
  input: RecoveryInput;
  paths: ReturnType<typeof getSimplePaths<typeof recoveryMachine>>;
  replay?: { trails: Snapshot[][]; covered: Set<GraphEdge>; transitions: number };
}

function model(name: string, input: RecoveryInput, events: AnyEventObject[]): Model {
  const paths = getSimplePaths(recoveryMachine, {
    input,
    events: events as never,
    // A state is its value and the code of the error it holds: so a retried step (back in
    // `working`, its last error still recorded) is a new vertex, and paths go through RETRY.
    serializeState: (s) => JSON.stringify([s.value, s.context.lastError?.code ?? null, s.context.confirmed]),
  });
  return { name, input, paths };
}

const MODELS: Model[] = [
  model('the tool does every step', toolInput, EVENTS),
  // Failures, refusals and RETRY are the same edges as the tool's: the operator's model adds only
  // its own (CONFIRM, a step found not done), so its paths stay few enough to walk every one.
  model('the operator does every step', operatorInput, [
    ...STEPS.map((step) => ({ type: `xstate.done.actor.${step}`, output: outcomes[step].accepted })),
    ...OPERATOR_EVENTS,
  ]),
];
/** Every edge some model took, each guard checked: together they must be all of the machine's. */
const coveredByAll = new Set<GraphEdge>();
const reachedByAll = new Set<string>();

describe.each(MODELS)('model-based: every simple path through the recovery machine, $name', (m) => {
  it('generates the paths from reinstalled', () => {
    const [initial] = initialTransition(recoveryMachine, m.input);
    expect(initial.value).toEqual({ reinstalled: m.input.manual.includes('stopService') ? 'waiting' : 'working' });
    expect(m.paths.every((p) => p.steps.length === 0 || JSON.stringify(p.steps[0]!.state.value) === JSON.stringify(initial.value))).toBe(true);
    for (const p of m.paths) reachedByAll.add(nodeOf(p.state));
    console.log(`model-based test (${m.name}): ${m.paths.length} simple paths from reinstalled (${m.paths.reduce((n, p) => n + p.steps.length - 1, 0)} transitions; ${m.paths.filter((p) => p.state.status === 'done').length} of the paths end in running)`);
  });

  it('replays each path on the pure machine: every transition is one of the graph\'s, and its guard holds', () => {
    const { covered, transitions } = replayAll(m);
    const rewinds = rewindFromEveryVertex(m);
    for (const edge of [...covered, ...rewinds.covered]) coveredByAll.add(edge);
    console.log(`model-based test (${m.name}): REWIND tried to every state from ${rewinds.vertices} vertices: ${rewinds.taken} taken, ${rewinds.refused} refused`);
    console.log(`model-based test (${m.name}): ${m.paths.length} paths replayed (${transitions} distinct transitions checked)`);
  }, 120_000);

  it('never reaches cleared without passing stopped with a verified backup, nor running without credential-set', () => {
    let toCleared = 0;
    let toRunning = 0;
    for (const trail of replayAll(m).trails) {
      const tops = trail.map(topOf);
      const cleared = tops.indexOf('cleared');
      if (cleared !== -1) {
        toCleared += 1;
        expect(tops[cleared - 1]).toBe('stopped');
        const at = trail[cleared]!.context;
        expect(at.facts.stopped?.serviceState).toBe('stopped');
        expect(at.backupManifest.fileCount).toBeGreaterThan(0);
        expect(at.backupManifest.digest).toMatch(/^[0-9a-f]{64}$/);
        expect(at.facts.cleared?.remaining).toBe(0);
      }
      const running = tops.indexOf('running');
      if (running !== -1) {
        toRunning += 1;
        expect(tops[running - 1]).toBe('credential-set');
        const at = trail[running]!.context;
        expect(at.facts.credential && credentialIsWellFormed(at.facts.credential)).toBe(true);
        expect(at.facts.restored && restoreMatchesBackup(at.facts.restored, at.backupManifest)).toBe(true);
        expect(at.facts.running?.serviceState).toBe('running');
        expect(trail.at(-1)!.status).toBe('done');
      }
    }
    expect(toCleared).toBeGreaterThan(0);
    expect(toRunning).toBe(m.paths.filter((p) => p.state.status === 'done').length);
  }, 120_000);
});

describe('model-based: both models together', () => {
  it('reach every state node a run can rest in, and take every transition of the machine, each guard checked', () => {
    // `entering` is passed through at once (an eventless choice): no run ever rests there.
    const resting = graph.nodes.filter((n) => n.children.length === 0 && n.key !== 'entering').map((n) => n.id).sort();
    expect([...reachedByAll].sort()).toEqual(resting);
    expect(Object.keys(GUARDS).sort()).toEqual([...graph.guards].sort());
    const missing = graph.edges.filter((e) => !coveredByAll.has(e) && e.kind !== 'always');
    expect(missing.map((e) => `${e.source} ${e.event} ${e.target}`)).toEqual([]);
    const always = graph.edges.filter((e) => e.kind === 'always');
    expect(always.filter((e) => !coveredByAll.has(e)).map((e) => `${e.source} -> ${e.target}`)).toEqual([]);
    console.log(`model-based test: all ${graph.edges.length} transitions of the machine taken by the two models`);
  });
});

function rewindFromEveryVertex(m: Model) {
  const vertices = new Map<string, Snapshot>();
  for (const trail of replayAll(m).trails) {
    for (const snapshot of trail) vertices.set(JSON.stringify([snapshot.value, snapshot.context.lastError?.code ?? null, snapshot.context.confirmed]), snapshot);
  }
  const covered = new Set<GraphEdge>();
  let taken = 0;
  let refused = 0;
  for (const before of vertices.values()) {
    for (const event of REWINDS) {
      const [after] = transition(recoveryMachine, before, event as never);
      const back = RECOVERY_STATES.indexOf(event.to) < RECOVERY_STATES.indexOf(topOf(before));
      if (!back || before.status === 'done') {
        // Not backwards (or the run is finished): nothing may change.
        expect(after.value, `${JSON.stringify(before.value)} REWIND ${event.to}`).toEqual(before.value);
        expect(after.context).toEqual(before.context);
        refused += 1;
        continue;
      }
      covered.add(checkTransition(before, event, after));
      taken += 1;
    }
    // Drift also lands on a visited vertex (`stopped`, no error): tried from every vertex whose step it ends.
    for (const event of DRIFTS) {
      const step = event.type.replace('xstate.error.actor.', '');
      if (JSON.stringify(before.value) !== JSON.stringify({ [STATE_OF_STEP[step as StepName]]: 'working' })) continue;
      covered.add(checkTransition(before, event, transition(recoveryMachine, before, event as never)[0]));
      taken += 1;
    }
  }
  return { covered, vertices: vertices.size, taken, refused };
}

/**
 * Replays every path from the initial snapshot with xstate's pure `transition`, checking each
 * transition. Paths share prefixes and `transition` is pure, so each distinct prefix is computed
 * and checked once.
 */
function replayAll(m: Model): NonNullable<Model['replay']> {
  if (m.replay) return m.replay;
  const covered = new Set<GraphEdge>();
  const known = new Map<string, Snapshot>();
  const [initial] = initialTransition(recoveryMachine, m.input);
  let transitions = 0;
  const trails = m.paths.map((path) => {
    let snapshot = initial;
    const trail: Snapshot[] = [initial];
    let key = '';
    for (const step of path.steps.slice(1)) { // steps[0] is the initial state (event xstate.init)
      const event = step.event as AnyEventObject;
      key += `|${JSON.stringify(event)}`;
      const seen = known.get(key);
      if (seen) snapshot = seen;
      else {
        const before = snapshot;
        [snapshot] = transition(recoveryMachine, before, event as never);
        known.set(key, snapshot);
        transitions += 1;
        covered.add(checkTransition(before, event, snapshot));
      }
      trail.push(snapshot);
    }
    // The path ends where @xstate/graph says (its vertex: the value and the error held).
    expect(snapshot.value).toEqual(path.state.value);
    expect(snapshot.context.lastError?.code ?? null).toBe(path.state.context.lastError?.code ?? null);
    return trail;
  });
  m.replay = { trails, covered, transitions };
  return m.replay;
}

/**
 * One transition of a path: it is one the diagram shows (same source, event and target), its
 * guard holds and every guard it is the fallback for does not; the KB order is kept (the only
 * way back is a rejected alpha string); a failed state always holds its error.
 */
function checkTransition(before: Snapshot, event: AnyEventObject, after: Snapshot): GraphEdge {
  const from = nodeOf(before);
  const to = nodeOf(after);
  // The deepest node's transitions first, then its ancestors' (REWIND is declared on the KB state).
  const chain: string[] = [];
  for (let id: string | null = from; id !== null; id = graph.nodes.find((n) => n.id === id)!.parent) chain.push(id);
  const candidates = chain.flatMap((source) => graph.edges.filter((e) => e.source === source && e.event === event.type));
  const taken = candidates.find((e) => e.guard === null || GUARDS[e.guard]!(event, before.context, e.guardParams));
  expect(taken, `${from} on ${event.type}`).toBeDefined();
  const target = graph.nodes.find((n) => n.id === taken!.target)!;
  // A step's state is entered through its eventless choice: the operator's (waiting) or the tool's (working).
  const entered = target.initial ?? target.id;
  const choice = graph.edges.filter((e) => e.source === entered && e.kind === 'always');
  const chosen = choice.find((e) => e.guard === null || GUARDS[e.guard]!(event, after.context, e.guardParams));
  if (chosen) coveredByAll.add(chosen);
  expect(to, `${from} on ${event.type}`).toBe(chosen ? chosen.target : entered);
  if (taken!.guard) expect(GUARDS[taken!.guard]!(event, before.context, taken!.guardParams), `${taken!.guard} on ${event.type}`).toBe(true);
  for (const g of taken!.otherwise) {
    const rejected = candidates.filter((e) => e.guard === g);
    for (const e of rejected) expect(GUARDS[g]!(event, before.context, e.guardParams), `!${g} on ${event.type}`).toBe(false);
  }

  const i = RECOVERY_STATES.indexOf(topOf(before));
  const j = RECOVERY_STATES.indexOf(topOf(after));
  if (j < i && event.type === 'REWIND') {
    // The operator's way back: to exactly the state asked for, its step to be redone, facts of
    // that state and later ones forgotten.
    expect(topOf(after)).toBe(event.to);
    expect(['working', 'waiting']).toContain(positionOf(after.value).phase);
    expect(after.context.rewinds).toBe(before.context.rewinds + 1);
    expect(after.context.lastError).toBeNull();
  } else if (j < i && ['{"stopped":"working"}', '{"stopped":"waiting"}'].includes(JSON.stringify(after.value))) {
    // Drift: Kmsdata is not what the restore left; back to the clear, counted, its error not kept.
    expect(['KMSDATA_DRIFT', 'KMSDATA_NOT_EMPTY']).toContain((event.error as { code: string }).code);
    expect(after.context.driftRedos).toBe(before.context.driftRedos + 1);
    expect(after.context.lastError).toBeNull();
    expect(after.context.facts.restored).toBeUndefined();
  } else if (j < i) {
    expect([topOf(before), JSON.stringify(after.value)]).toEqual(['credential-set', '{"restored":"failed"}']);
    expect(after.context.lastError?.code).toBe('ALPHA_REJECTED');
  } else if (j > i) {
    expect(j).toBe(i + 1);
    expect(after.context.lastError).toBeNull();
  }
  if (positionOf(after.value).phase === 'failed') expect(after.context.lastError).not.toBeNull();
  return taken!;
}
