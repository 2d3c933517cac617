import type { AnyEventObject } from 'xstate';
import { initialTransition, transition } from '../machines/xstate-runtime.js';
import { KB_STEPS, positionOf, recoveryMachine, STEP_OF_STATE, type RecoveryInput, type RecoveryState, type StepName, type StepOutputs } from '../machines/index.js';
import type { PreparedRun } from './start-run.js';
import type { RunOptions } from './step-policy.js';
import { policyFor } from './step-policy.js';
import { settleSecondsOf } from './settle-window.js';

export interface PlannedStep {
  step: StepName;
  from: RecoveryState;
  to: RecoveryState;
  kbSteps: string;
  manual: boolean;
  /** What the step touches on the server, in words. */
  touches: string;
  timeoutMs: number;
  attempts: number;
}

export interface RunPlan {
  service: { name: string; state: string };
  kmsdata: string;
  backup: string;
  restore: { files: number; bytes: number; digest: string };
  kmsdataEntriesNow: number;
  alphaSource: string;
  /** The target computer's name as the start checks found it, and `--original-name` if given. */
  computerName: string | null;
  originalName: string | null;
  /** How long the started KMS is watched before `running`. */
  settleSeconds: number;
  steps: PlannedStep[];
}

/**
 * The plan of a run, computed with XState's pure transition functions from the facts the
 * preflight read: each step's expected report is fed to the machine, so the plan follows the
 * real guards and transitions. Runs no effect, writes nothing.
 */
export function planRun(prepared: PreparedRun, options: RunOptions, kmsdataEntriesNow: number): RunPlan {
  const { checked, manifest } = prepared;
  const input: RecoveryInput = {
    serviceName: prepared.serviceName, kmsdata: checked.kmsdata, backup: checked.backup,
    backupManifest: { fileCount: manifest.fileCount, totalBytes: manifest.totalBytes, digest: manifest.digest },
    kmsdataIdentity: checked.kmsdataIdentity,
    manual: options.manual ?? [],
  };
  const manual = new Set(options.manual ?? []);
  const expected: { [K in StepName]: StepOutputs[K] } = {
    stopService: { serviceState: 'stopped' },
    clearKmsdata: { removed: kmsdataEntriesNow, remaining: 0 },
    restoreKmsdata: { fileCount: manifest.fileCount, totalBytes: manifest.totalBytes, digest: manifest.digest, mismatches: [], alreadyRestored: false },
    setCredential: manual.has('setCredential') ? { source: 'operator', length: null } : { source: prepared.alpha?.source ?? 'operator', length: prepared.alpha?.length ?? null },
    startService: { serviceState: 'running' },
  };
  const touches: Record<StepName, string> = {
    stopService: `service ${prepared.serviceName} (now ${checked.service.state})`,
    clearKmsdata: `moves the ${kmsdataEntriesNow} top-level entries of ${checked.kmsdata} (files and folders, with all they hold) into a quarantine folder beside it (deleted once running)`,
    restoreKmsdata: `copies ${manifest.fileCount} files (${manifest.totalBytes} bytes) from ${checked.backup} through a staging folder into ${checked.kmsdata}, SHA-256 verified`,
    setCredential: manual.has('setCredential') ? 'the operator types the alpha string into the service\'s start parameters'
      : `the alpha string from the ${(prepared.alpha?.source ?? 'prompt').replace('-', ' ')}, held in memory only`,
    startService: `starts ${prepared.serviceName} with the alpha string as start parameter, then watches it for ${settleSecondsOf(options)} s (settle window: running, holding the restored kmsdata.edb, no error logged)`,
  };

  const steps: PlannedStep[] = [];
  let [snapshot] = initialTransition(recoveryMachine, input);
  while (snapshot.status !== 'done') {
    const from = positionOf(snapshot.value).state;
    if (from === 'running') break;
    const step = STEP_OF_STATE[from];
    // A manual step waits for the operator: the plan assumes the confirm, then the step's check.
    if (positionOf(snapshot.value).phase === 'waiting') [snapshot] = transition(recoveryMachine, snapshot, { type: 'CONFIRM', step });
    // The step's done event as XState raises it: internal events are not in the machine's event
    // type, so the plan's one synthesized event is cast here (and only here).
    const event = { type: `xstate.done.actor.${step}`, output: expected[step] } as AnyEventObject;
    [snapshot] = transition(recoveryMachine, snapshot, event as never);
    const to = positionOf(snapshot.value);
    if (to.phase === 'failed' || to.state === from) {
      throw new Error(`the plan stops at ${from}: the machine rejects the expected report of ${step}`);
    }
    const policy = policyFor(options, step);
    steps.push({ step, from, to: to.state, kbSteps: KB_STEPS[to.state].kbSteps, manual: manual.has(step), touches: touches[step], timeoutMs: policy.timeoutMs, attempts: policy.attempts });
  }
  return {
    service: { name: prepared.serviceName, state: checked.service.state },
    kmsdata: checked.kmsdata, backup: checked.backup,
    restore: { files: manifest.fileCount, bytes: manifest.totalBytes, digest: manifest.digest },
    kmsdataEntriesNow,
    // No alpha string but no manual start: a dry run given none; the start will ask for it.
    alphaSource: prepared.alpha?.source ?? (manual.has('startService') ? 'operator (manual)' : 'prompt'),
    computerName: options.computerName ?? null,
    originalName: options.originalName ?? null,
    settleSeconds: settleSecondsOf(options),
    steps,
  };
}
