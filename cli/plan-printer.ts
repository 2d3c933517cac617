import type { Host } from '../host/types.js';
import { planRun } from '../recovery/plan-run.js';
import type { PreparedRun } from '../recovery/start-run.js';
import { formatBytes, printJson, printLine } from './output.js';

const EMPTY = { files: [], dirs: [], fileCount: 0, totalBytes: 0, digest: '' };

/** `start --dry-run`: the preflight passed; print what each step would touch. Changes nothing. */
export async function printPlan(host: Host, prepared: PreparedRun, json: boolean): Promise<void> {
  const entries = (await host.verifyKmsdata(prepared.checked.kmsdata, EMPTY)).differences.length;
  const plan = planRun(prepared, prepared.options, entries);
  if (json) {
    printJson({ dryRun: true, ...plan });
    return;
  }
  printLine(`Dry run: the preflight passed; nothing was changed and no run was written.`);
  printLine(`Service ${plan.service.name} (${plan.service.state}); Kmsdata ${plan.kmsdata} holds ${plan.kmsdataEntriesNow} files and folders now.`);
  printLine(`Backup ${plan.backup}: ${plan.restore.files} files, ${formatBytes(plan.restore.bytes)}. Alpha string: ${plan.alphaSource}.`);
  for (const [i, step] of plan.steps.entries()) {
    printLine(`  ${i + 1}. ${step.from} -> ${step.to} (KB step ${step.kbSteps}) ${step.step}${step.manual ? ' [manual]' : ''}: ${step.touches}; timeout ${Math.round(step.timeoutMs / 1000)} s, ${step.attempts} attempt(s)`);
  }
}
