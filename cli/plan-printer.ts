import type { Host } from '../host/types.js';
import { kbLabel } from '../machines/recovery.kb-steps.js';
import { planRun } from '../recovery/plan-run.js';
import type { PreparedRun } from '../recovery/start-run.js';
import { formatBytes } from '../present/byte-words.js';
import { printJson, printLine } from './output.js';

/** `start --dry-run`: the preflight passed; print what each step would touch. Changes nothing. */
export async function printPlan(host: Host, prepared: PreparedRun, json: boolean): Promise<void> {
  const entries = (await host.kmsdataEntries(prepared.checked.kmsdata)).length;
  const plan = planRun(prepared, prepared.options, entries);
  if (json) {
    printJson({ dryRun: true, ...plan });
    return;
  }
  printLine(`Dry run: the preflight passed; nothing was changed and no run was written.`);
  if (plan.computerName) printLine(`Computer ${plan.computerName}${plan.originalName ? `: the original's name (--original-name ${plan.originalName})` : ': not checked against the original server\'s name (KB Q198814 wants the same name; --original-name checks it)'}.`);
  printLine(`Service ${plan.service.name} (${plan.service.state}); Kmsdata ${plan.kmsdata} holds ${plan.kmsdataEntriesNow} top-level entries (files and folders) now.`);
  printLine(`Backup ${plan.backup}: ${plan.restore.files} files, ${formatBytes(plan.restore.bytes)}.`);
  printLine(`Alpha string: ${alphaWords(plan.alphaSource)}.`);
  for (const [i, step] of plan.steps.entries()) {
    printLine(`  ${i + 1}. ${step.from} -> ${step.to} (${kbLabel(step.kbSteps)}) ${step.step}${step.manual ? ' [manual]' : ''}: ${step.touches}; timeout ${Math.round(step.timeoutMs / 1000)} s, ${step.attempts} attempt(s)`);
  }
}

/** Where the start gets the alpha string; a dry run reads it only when given, and never asks. */
function alphaWords(source: string): string {
  if (source === 'prompt') return 'not asked for now; the start asks for it at a hidden prompt (or reads it from --startup-disk A:\\Kmspwd.ini)';
  if (source === 'startup-disk') return 'read from the startup disk';
  if (source === 'environment') return 'read from KMS_ALPHA_STRING';
  return 'typed by you into the service\'s start parameters (manual start)';
}
