import { currentProcess } from '../../host/process-identity.js';
import { driverOf } from '../../recovery/lease-policy.js';
import { describe, expect, it } from 'vitest';
import { KB_STEPS } from '../../machines/recovery.kb-steps.js';
import { RECOVERY_STATES, recoveryMachine, type RecoveryState } from '../../machines/index.js';
import { runRecord } from '../helpers/run-record.js';
import type { EventRecord, LeaseRecord, RunPhase, RunRecord } from '../../persistence/index.js';
import { runStatus } from '../../recovery/run-status.js';
import {
  machineGraph, MARK_WORDS, overviewChain, overviewDot, overviewMermaid, overviewOverlay, overviewText, renderOverview,
  type DiagramFormat, type OverviewOverlay, type StateMark,
} from '../../diagrams/render/index.js';
import { at, eventLog } from '../helpers/event-records.js';
import { parseSvg } from '../helpers/svg.js';

const graph = machineGraph(recoveryMachine);
const FORMATS: DiagramFormat[] = ['text', 'mermaid', 'dot', 'svg'];

/** Events of a run that went through the steps before `upTo` (a state), started the step leading into it. */
function eventsUpTo(upTo: number): EventRecord[] {
  const event = eventLog();
  const steps = ['stopService', 'clearKmsdata', 'restoreKmsdata', 'setCredential', 'startService'];
  const events = [event('run.created', null, 'reinstalled')];
  for (let i = 0; i < upTo; i++) {
    events.push(event('step.started', RECOVERY_STATES[i]!, RECOVERY_STATES[i]!, { step: steps[i], attempt: 1 }));
    events.push(event(`xstate.done.actor.${steps[i]}`, RECOVERY_STATES[i]!, RECOVERY_STATES[i + 1]!, { phase: i + 1 === 5 ? 'done' : 'working' }));
  }
  if (upTo < 5) events.push(event('step.started', RECOVERY_STATES[upTo]!, RECOVERY_STATES[upTo]!, { step: steps[upTo], attempt: 1 }));
  return events;
}

function record(state: RecoveryState, phase: RunPhase, lastError: { step: string; code: string; message: string } | null = null): RunRecord {
  return runRecord({ state, phase, lastError, createdAt: at(1), updatedAt: at(20), serverKey: 'd:\\exchsrvr\\kmsdata' });
}

const LIVE: LeaseRecord = { host: 'kms01', pid: 4242, processStart: null, acquiredAt: at(1), heartbeatAt: at(19), generation: 1 };

/** The overlay of the run's view as `diagram` reads it, a second after the run's last change (LIVE's heartbeat is fresh then). */
function overlayOf(run: RunRecord, events: EventRecord[], driver: LeaseRecord | null): OverviewOverlay {
  const status = runStatus(run, events, driver, null, null, Date.parse(at(21)));
  return overviewOverlay(overviewChain(graph, status.kmsdata), status);
}

const runs: Record<string, () => OverviewOverlay> = {
  // Finished: running, and its clean-up done (the run closed).
  done: () => overlayOf({ ...record('running', 'done'), closedAt: at(20) }, eventsUpTo(5), null),
  finishing: () => overlayOf(record('running', 'done'), eventsUpTo(5), null),
  working: () => overlayOf(record('cleared', 'working'), eventsUpTo(2), LIVE),
  interrupted: () => overlayOf(record('cleared', 'working'), eventsUpTo(2), null),
  waiting: () => overlayOf(record('stopped', 'waiting'), eventsUpTo(1), null),
  failed: () => overlayOf(record('credential-set', 'failed', { step: 'startService', code: 'SERVICE_START_FAILED', message: 'no' }), eventsUpTo(4), null),
  // The title's next is status's, the error's advice: a long one, and one longer than any the picture has room for.
  // The KMS refuses the alpha string when it is started: the run rests at restored, to be given the right one.
  alphaRejected: () => overlayOf(record('restored', 'failed', { step: 'startService', code: 'ALPHA_REJECTED', message: 'no' }), eventsUpTo(3), null),
  longAdvice: () => overlayOf(record('cleared', 'failed', { step: 'restoreKmsdata', code: 'MANUAL_STEP_UNVERIFIED', message: 'the copy did not finish in time '.repeat(30).trim() }), eventsUpTo(2), null),
};

/** Names of the machine an administrator never needs: XState's events, substates and guards. */
function machineNames(text: string): string[] {
  const found: string[] = [];
  for (const pattern of [/xstate\./i, /__initial/, /REWIND/, /RETRY/, /\b[a-z-]+\.(working|failed)\b/, /\b[a-z_]+_(working|failed)\b/, /done\.actor|error\.actor/]) {
    const m = pattern.exec(text);
    if (m) found.push(m[0]);
  }
  for (const guard of graph.guards) if (text.includes(guard)) found.push(guard);
  return found;
}

describe('the overview chain', () => {
  it('is the six KB states in order with their KB step numbers and the KB\'s words for each step', () => {
    const chain = overviewChain(graph);
    expect(chain.states.map((s) => s.state)).toEqual([...RECOVERY_STATES]);
    expect(chain.states.map((s) => s.kbSteps)).toEqual(['1', '2', '3', '4', '5-6', '7']);
    expect(chain.states.map((s) => s.final)).toEqual([false, false, false, false, false, true]);
    expect(chain.steps.map((s) => [s.from, s.to, s.kbSteps])).toEqual([
      [null, 'reinstalled', '1'], ['reinstalled', 'stopped', '2'], ['stopped', 'cleared', '3'],
      ['cleared', 'restored', '4'], ['restored', 'credential-set', '5-6'], ['credential-set', 'running', '7'],
    ]);
    expect(chain.steps[1]!.words).toBe('stop the Exchange Key Management Server service');
    expect(chain.steps[3]!.words).toBe('restore the Kmsdata directory from backup');
    // The words are the KB's, read from machines/recovery.kb-steps.ts.
    for (const step of chain.steps.slice(1)) expect(KB_STEPS[step.from!].next!.replace('<path>\\', '')).toContain(step.words);
    expect(chain.steps[2]!.words).toBe('go to the Exchsrvr\\Kmsdata directory, and delete all files');
    expect(overviewChain(graph, 'D:\\exchsrvr\\KMSDATA').steps[2]!.words).toBe('go to the D:\\exchsrvr\\KMSDATA directory, and delete all files');
  });
});

describe('a run on the overview', () => {
  const marks = (o: OverviewOverlay) => o.states.map((s) => s.mark);

  it('marks a finished run done everywhere, each state with its time and the step\'s duration', () => {
    const o = runs.done!();
    expect(marks(o)).toEqual(RECOVERY_STATES.map(() => 'done'));
    expect(o.states[0]!.words).toMatch(/^checked at start, \d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    expect(o.states[2]!.words).toMatch(/^done \d{4}-\d\d-\d\d \d\d:\d\d:\d\d, took 1 second$/);
    expect(o.headline).toMatch(/^Run abcd1234: recovery complete/);
    expect(o.next).toBeNull();
  });

  it('tells a run whose clean-up after running was cut off from a finished one, as status does', () => {
    const o = runs.finishing!();
    expect(marks(o)).toEqual(RECOVERY_STATES.map(() => 'done'));
    expect(o.headline).toBe('Run abcd1234: the KMS runs; its clean-up was cut off');
    expect(o.next).toContain('run kms-recover resume abcd1234 to complete it');
  });

  it('tells a live run from an interrupted one by its lease', () => {
    const working = runs.working!();
    expect(marks(working)).toEqual(['done', 'done', 'done', 'working', 'pending', 'pending']);
    expect(working.headline).toBe('Run abcd1234: working on KB step 4');
    expect(working.next).toContain('pid 4242 on kms01');
    const interrupted = runs.interrupted!();
    expect(marks(interrupted)).toEqual(['done', 'done', 'done', 'interrupted', 'pending', 'pending']);
    expect(interrupted.states[3]!.words).toBe(MARK_WORDS.interrupted);
    expect(interrupted.headline).toBe('Run abcd1234: interrupted during KB step 4, nothing is lost');
    expect(interrupted.next).toContain('run kms-recover resume abcd1234');
    expect(interrupted.kmsdata).toBe('D:\\exchsrvr\\KMSDATA');
  });

  it('shows a manual step pending as waiting for you, with the one command to run', () => {
    const o = runs.waiting!();
    expect(marks(o)).toEqual(['done', 'done', 'waiting', 'pending', 'pending', 'pending']);
    expect(o.states[2]!.words).toBe('waiting for you: do KB step 3 by hand');
    expect(o.next).toMatch(/When it is done, run: kms-recover confirm abcd1234 clearKmsdata$/);
  });

  it('shows a failed step with its error code, and the states not reached as pending', () => {
    const o = runs.failed!();
    expect(marks(o)).toEqual(['done', 'done', 'done', 'done', 'done', 'failed']);
    expect(o.states[5]!.words).toBe('failed: the service did not start (SERVICE_START_FAILED)');
    expect(o.headline).toBe('Run abcd1234: KB step 7 failed: the service did not start (SERVICE_START_FAILED)');
    // The alpha string is refused when the service is started; the box marked is the step done again, KB steps 5-6.
    const alpha = runs.alphaRejected!();
    expect(marks(alpha)).toEqual(['done', 'done', 'done', 'done', 'failed', 'pending']);
    expect(alpha.states[4]!.words).toBe('failed: the alpha string was refused (ALPHA_REJECTED) when the service was started');
    expect(alpha.headline).toBe('Run abcd1234: KB steps 5-6 failed: the alpha string was refused (ALPHA_REJECTED) when the service was started');
    expect(runs.waiting!().states.slice(3).map((s) => s.words)).toEqual(['not yet', 'not yet', 'not yet']);
  });

  it('counts a lease as live only while its holder is alive and its heartbeat is fresh', () => {
    const me = currentProcess();
    const fresh: LeaseRecord = { ...me, acquiredAt: new Date().toISOString(), heartbeatAt: new Date().toISOString(), generation: 1 };
    expect(driverOf(fresh).kind).toBe('live');
    expect(driverOf({ ...fresh, processStart: 'another-boot:1' }).kind).toBe('dead'); // a reused pid
    expect(driverOf({ ...fresh, heartbeatAt: new Date(Date.now() - 61_000).toISOString() }).kind).toBe('silent');
    expect(driverOf(null).kind).toBe('nobody');
  });
});

describe('the overview in every format', () => {
  it('names no XState event, substate or guard, with or without a run', async () => {
    for (const format of FORMATS) {
      expect(machineNames(await renderOverview(format)), format).toEqual([]);
      for (const [name, overlay] of Object.entries(runs)) expect(machineNames(await renderOverview(format, overlay())), `${format} ${name}`).toEqual([]);
    }
  }, 60_000);

  it('with a run: every state\'s words, the headline, the next command and a legend of every mark', async () => {
    const o = runs.interrupted!();
    for (const format of FORMATS) {
      const text = (await renderOverview(format, o)).replace(/&#45;/g, '-');
      for (const s of o.states) expect(text, `${format} ${s.state}`).toContain(s.words);
      expect(text, format).toContain(o.headline);
      expect(text, format).toContain('kms-recover resume abcd1234');
      for (const words of Object.values(MARK_WORDS)) expect(text, `${format} legend ${words}`).toContain(words);
      expect(text, format).toContain('kms-recover diagram --detail');
    }
  }, 60_000);

  it('without a run: the chain, no marks and no legend', async () => {
    const chain = overviewChain(graph);
    const text = overviewText(chain, null);
    expect(text).toContain('No run shown');
    expect(text).not.toContain('Legend');
    const rows = text.split('\n').filter((l) => /^ {3}o {2}KB /.test(l)).map((l) => l.trim().split(/\s{2,}/).slice(1));
    expect(rows).toEqual([
      ['KB step 1', 'reinstalled'], ['KB step 2', 'stopped'], ['KB step 3', 'cleared'],
      ['KB step 4', 'restored'], ['KB steps 5-6', 'credential-set'], ['KB step 7', 'running'],
    ]);
    expect(overviewMermaid(chain)).not.toMatch(/classDef|Legend/);
    expect(overviewDot(chain)).not.toMatch(/Legend|fillcolor="#d8f0dc"/);
  });

  it('Mermaid: one stateDiagram-v2 chain, each arrow labelled with its KB step, each state coloured by its mark', () => {
    const o = runs.failed!();
    const text = overviewMermaid(overviewChain(graph, o.kmsdata), { overlay: o });
    const lines = text.trimEnd().split('\n');
    expect(lines.slice(0, 4)).toEqual(['---', `title: "Recovery of an Exchange 5.5 Key Management Server (Microsoft KB Q198814). ${o.headline}"`, '---', 'stateDiagram-v2']);
    expect(text).toContain('    [*] --> reinstalled : KB step 1: ');
    expect(text).toContain('    reinstalled --> stopped : KB step 2: stop the Exchange Key Management Server service\n');
    expect(text).toContain('    restored --> credential_set : KB steps 5-6: on the start up parameters');
    expect(text).toContain('    running --> [*]\n');
    expect(text).toContain('    running : failed: the service did not start (SERVICE_START_FAILED)\n');
    expect(text).toContain('    class reinstalled,stopped,cleared,restored,credential_set,legendDone done\n');
    expect(text).toContain('    class running,legendFailed failed\n');
    for (const line of lines.slice(4)) {
      expect(line).toMatch(/^\s*(%% .*|direction (TB|LR)|\[\*\] --> \w+ : [^;#\n]+|\w+ --> (\w+ : [^;#\n]+|\[\*\])|state "[^"]+" as \w+( \{)?|\w+ : [^;#\n]+|\}|classDef \w+ .+|class [\w,]+ \w+)$/);
    }
  });

  it('DOT: the current state filled in its mark\'s colour and drawn heavier, the states not reached grey', () => {
    const text = overviewDot(overviewChain(graph), { overlay: runs.waiting!() });
    expect(text).toMatch(/"cleared" \[label=<.*waiting for you.*>, style="rounded,filled", fillcolor="#d4e6ff", color="#1565c0", penwidth=3\];/);
    expect(text).toMatch(/"stopped" \[label=<.*>, style="rounded,filled", fillcolor="#d8f0dc", color="#2e7d32"\];/);
    expect(text).toMatch(/"running" \[label=<.*not yet.*>, style="rounded,filled", fillcolor="#ffffff", color="#9e9e9e", fontcolor="#616161"\];/);
    const interrupted = overviewDot(overviewChain(graph), { overlay: runs.interrupted!() });
    expect(interrupted).toMatch(/"restored" \[label=<.*>, style="rounded,filled,dashed", fillcolor="#ffe0b2", color="#e65100", penwidth=3\];/);
  });
});

/** The SVG's size in CSS pixels (Graphviz writes points: 1 pt = 96/72 px at 100 %). */
function svgSize(svg: string): { width: number; height: number; fonts: number[]; scaled: boolean } {
  const doc = parseSvg(svg);
  const root = doc.documentElement!;
  const px = (value: string | null) => {
    const m = /^([\d.]+)(pt|px)$/.exec(value ?? '');
    if (!m) throw new Error(`no size in ${value}`);
    return Number(m[1]) * (m[2] === 'pt' ? 96 / 72 : 1);
  };
  const [, , vw, vh] = (root.getAttribute('viewBox') ?? '').split(/\s+/).map(Number);
  const width = px(root.getAttribute('width'));
  const height = px(root.getAttribute('height'));
  const fonts = Array.from(doc.getElementsByTagName('text')).map((t) => Number(t.getAttribute('font-size')));
  // Drawn 1:1 (the viewBox is the page in points), so a 12 pt font is 16 px on screen.
  const scaled = Math.abs((vw ?? 0) * 96 / 72 - width) > 1 || Math.abs((vh ?? 0) * 96 / 72 - height) > 1;
  return { width, height, fonts, scaled };
}

describe('the overview SVG', () => {
  it('gives the next action whole while it fits two lines of the title, else its beginning and its end, where the command is', async () => {
    const unescaped = (html: string) => html.replace(/&lt;/g, '<').replace(/&gt;/g, '>');
    const short = runs.interrupted!();
    expect(unescaped(await renderOverview('dot', short))).toContain(`Next: ${short.next}</B>`);
    const alpha = runs.alphaRejected!();
    expect(unescaped(await renderOverview('dot', alpha)).replace(/<BR ALIGN="LEFT"\/>/g, ' ')).toContain(`Next: ${alpha.next}</B>`);
    const long = runs.longAdvice!();
    const cut = unescaped(/<BR ALIGN="LEFT"\/>\.\.\. (.*?)<\/B>/.exec(await renderOverview('dot', long))![1]!);
    expect(long.next!.endsWith(` ${cut}`)).toBe(true);
    expect(cut).toMatch(/then run: kms-recover resume abcd1234$/);
  }, 60_000);

  it.each(['no run', ...Object.keys(runs)])('fits a 1600×1000 window at 100 %%, unscaled, its smallest text 11 pt (%s)', async (name) => {
    const size = svgSize(await renderOverview('svg', runs[name]?.() ?? null));
    expect(size.width).toBeLessThanOrEqual(1600);
    expect(size.height).toBeLessThanOrEqual(1000);
    expect(size.scaled).toBe(false);
    expect(Math.min(...size.fonts)).toBeGreaterThanOrEqual(11);
  }, 60_000);

  it('marks every state with its words and draws each mark of the legend', async () => {
    const o = runs.failed!();
    const svg = await renderOverview('svg', o);
    const marks: StateMark[] = ['done', 'working', 'interrupted', 'waiting', 'failed', 'pending'];
    for (const mark of marks) expect(svg).toContain(`>${MARK_WORDS[mark].replace(/:/g, ':')}<`);
    expect(svg).toContain('>failed: the service did not start (SERVICE_START_FAILED)<');
    expect(svg).toContain('fill="#f9d0d0"');
  }, 60_000);
});
