import { STEP_NAMES } from '../machines/recovery.order.js';
import { exactSeconds } from '../present/time-words.js';
import { DEFAULT_SETTLE_SECONDS, SETTLE_LIMITS } from '../recovery/settle-window.js';
import { BACKOFF_CEILING, DEFAULT_POLICIES, POLICY_LIMITS, STEP_ALIASES } from '../recovery/step-policy.js';

/*
 * The words of `--help` that come from the code: the step names, the ranges the parsers accept,
 * the defaults (recovery/step-policy.ts, recovery/settle-window.ts), and one example per command.
 */

const seconds = (ms: number) => exactSeconds(ms).replace(/ s$/, '');

/** What each option accepts, as its parser checks it. */
export const RANGES = {
  timeout: `${seconds(POLICY_LIMITS.timeoutMs.min)} to ${seconds(POLICY_LIMITS.timeoutMs.max)} s`,
  attempts: `${POLICY_LIMITS.attempts.min} to ${POLICY_LIMITS.attempts.max}`,
  backoff: `${seconds(POLICY_LIMITS.backoffMs.min)} to ${seconds(POLICY_LIMITS.backoffMs.max)} s`,
  settle: `${SETTLE_LIMITS.min} to ${SETTLE_LIMITS.max} s`,
} as const;

const aliasOf = (step: string) => Object.keys(STEP_ALIASES).find((alias) => STEP_ALIASES[alias] === step);

/** `stopService, clearKmsdata, … (or stop, clear, …)`. */
export const STEP_NAME_WORDS = `${STEP_NAMES.join(', ')} (or ${STEP_NAMES.map(aliasOf).join(', ')})`;

/** The steps with their short names and default policies, and the ranges: after `start --help` and `resume --help`. */
export function stepsHelp(): string {
  const width = Math.max(...STEP_NAMES.map((step) => `${step} (${aliasOf(step)})`.length)) + 2;
  const rows = STEP_NAMES.map((step) => {
    const policy = DEFAULT_POLICIES[step];
    const attempts = `${policy.attempts} attempt${policy.attempts === 1 ? '' : 's'}`;
    return `  ${`${step} (${aliasOf(step)})`.padEnd(width)}${exactSeconds(policy.timeoutMs)}, ${attempts}, first retry wait ${exactSeconds(policy.backoffMs)}`;
  });
  return [
    '',
    'Steps, in the KB\'s order: a step option takes the name or its short name.',
    'Each with its defaults (time limit of one attempt, attempts, first retry wait):',
    ...rows,
    '',
    'Ranges:',
    `  --timeout   ${RANGES.timeout} for one attempt`,
    `  --attempts  ${RANGES.attempts}, the first attempt included`,
    `  --backoff   ${RANGES.backoff}; doubles per retry, up to ${BACKOFF_CEILING} times the first`,
    `  --settle    ${RANGES.settle} (default ${DEFAULT_SETTLE_SECONDS} s)`,
  ].join('\n');
}

/** Real invocations, each under what it does: an administrator's on Windows, the simulator's elsewhere. */
const EXAMPLES: Record<string, readonly [string, string][]> = {
  '': [
    ['See what a recovery would do, changing nothing:', 'kms-recover start --kmsdata C:\\exchsrvr\\KMSDATA --backup E:\\backup\\KMSDATA --dry-run'],
    ['Recover, reading the alpha string from the original startup disk:', 'kms-recover start --kmsdata C:\\exchsrvr\\KMSDATA --backup E:\\backup\\KMSDATA --startup-disk A:\\Kmspwd.ini'],
    ['Where the latest run stands:', 'kms-recover status'],
    ['Try it all on a simulated server first:', 'kms-recover demo'],
  ],
  start: [
    ['Check everything and print the plan (changes nothing, asks no alpha string):', 'kms-recover start --kmsdata C:\\exchsrvr\\KMSDATA --backup E:\\backup\\KMSDATA --dry-run'],
    ['Recover, reading the alpha string from the original startup disk:', 'kms-recover start --kmsdata C:\\exchsrvr\\KMSDATA --backup E:\\backup\\KMSDATA --startup-disk A:\\Kmspwd.ini'],
    ['Start the service yourself, and give a large restore two hours:', 'kms-recover start --kmsdata C:\\exchsrvr\\KMSDATA --backup E:\\backup\\KMSDATA --manual start --timeout restore=7200'],
  ],
  resume: [
    ['Continue the latest unfinished run:', 'kms-recover resume --startup-disk A:\\Kmspwd.ini'],
    ['Give the restore ten minutes and the start five attempts, then continue:', 'kms-recover resume --timeout restore=600 --attempts start=5 --startup-disk A:\\Kmspwd.ini'],
    ['Go back to cleared: redo the restore and every step after it (asks first):', 'kms-recover resume 3f9a1c2e --from cleared --startup-disk A:\\Kmspwd.ini'],
  ],
  confirm: [
    ['You stopped the KMS service by hand (the run goes on: give the alpha string):', 'kms-recover confirm 3f9a1c2e stop --startup-disk A:\\Kmspwd.ini'],
    ['You started the KMS service by hand, with the alpha string:', 'kms-recover confirm 3f9a1c2e start'],
  ],
  abandon: [
    ['End a run you will not finish (asks first):', 'kms-recover abandon 3f9a1c2e --reason "restored from tape instead"'],
    ['The database was lost: release the server that run still claims:', 'kms-recover abandon 3f9a1c2e --kmsdata C:\\exchsrvr\\KMSDATA --yes'],
  ],
  takeover: [
    ['The run\'s driver stopped answering (status: unresponsive); asks first:', 'kms-recover takeover 3f9a1c2e'],
  ],
  status: [
    ['Where the latest run stands, and what to do next:', 'kms-recover status'],
    ['A run by its id, for a script:', 'kms-recover status 3f9a1c2e --json'],
  ],
  watch: [
    ['Follow the latest run from a second console:', 'kms-recover watch'],
  ],
  list: [
    ['The runs of this database, newest first:', 'kms-recover list'],
    ['Every run, for a script:', 'kms-recover list --all --json'],
  ],
  history: [
    ['Everything that happened to the latest run, oldest first:', 'kms-recover history'],
    ['The same of one run, times in UTC:', 'kms-recover history 3f9a1c2e --utc'],
  ],
  'check-db': [
    ['Check the whole database for damage (it changes nothing):', 'kms-recover check-db'],
    ['The same of a database named by its path:', 'kms-recover check-db --db C:\\ProgramData\\kms-recover\\kms-recover.db'],
  ],
  report: [
    ['The incident report of the latest run, as one HTML file in this folder:', 'kms-recover report'],
    ['The same in Markdown, to paste into a ticket:', 'kms-recover report 3f9a1c2e --format md -o -'],
  ],
  diagram: [
    ['The six KB steps, and where the latest run stands:', 'kms-recover diagram'],
    ['The full state machine as a picture:', 'kms-recover diagram --detail --format svg -o recovery.svg'],
  ],
  demo: [
    ['A recovery of a simulated server, end to end, in a temporary folder:', 'kms-recover demo'],
  ],
  sim: [
    ['Build a server to practise on:', 'kms-recover sim init /tmp/kms'],
    ['Then recover it:', 'kms-recover start --kmsdata /tmp/kms/Exchsrvr/Kmsdata --backup /tmp/kms/backup/Kmsdata --startup-disk /tmp/kms/A/Kmspwd.ini'],
  ],
  'sim init': [
    ['Build a simulated server named KMS01 in an empty folder:', 'kms-recover sim init /tmp/kms'],
  ],
  'sim status': [['The simulated service\'s state:', 'kms-recover sim status /tmp/kms']],
  'sim start': [['Start the simulated service by hand, as for a manual start:', 'kms-recover sim start /tmp/kms --startup-disk /tmp/kms/A/Kmspwd.ini']],
  'sim stop': [['Stop the simulated service by hand:', 'kms-recover sim stop /tmp/kms']],
  'sim rename': [['Pretend the server was rebuilt under another name:', 'kms-recover sim rename /tmp/kms KMS02']],
  'sim reboot': [['Pull the plug mid-recovery, then boot:', 'kms-recover sim reboot /tmp/kms']],
};

/** The commands that have examples (every one: a test checks each command's help shows some). */
export const COMMANDS_WITH_EXAMPLES = Object.keys(EXAMPLES);

/** `Examples:` and each example under its words, for `command` (its words after kms-recover). */
export function examplesHelp(command: string): string {
  const examples = EXAMPLES[command];
  if (!examples) throw new Error(`no help examples for "${command}"`);
  return ['', 'Examples:', ...examples.flatMap(([what, line]) => [`  ${what}`, `    ${line}`])].join('\n');
}
