#!/usr/bin/env node
import { createRequire } from 'node:module';
import type { Command as CommandType, Option as OptionType } from 'commander';
import { EXIT, KmsRecoverError } from '../errors/index.js';
import { configureLeaseStaleness } from '../recovery/lease-policy.js';
import { DEFAULT_SETTLE_SECONDS } from '../recovery/settle-window.js';
import { databasePlace } from './database-location.js';
import { examplesHelp, RANGES, STEP_NAME_WORDS, stepsHelp } from './help-text.js';
import { parseRunId } from './run-id.js';
import { TOOL_VERSION } from './version.js';

// `kms-recover list --json | head`: a reader that stops early is not an error of ours.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw error;
});

// The command is done once the event loop is empty: end there. Node's own teardown after that
// (the environment and V8's heap freed piece by piece) took 10-20 ms after every command's last
// word. Nothing is cut short: a write not yet handed to the system (a pipe on Windows), a timer
// or a child's pipe keeps the loop alive, so this comes only after them; 'exit' handlers still run.
process.once('beforeExit', () => process.exit());

// commander is CommonJS: required as such, node does not load its CommonJS lexer to find named
// exports for an ESM import (a few ms of every command's start; better-sqlite3 is required the
// same way, persistence/open-database.ts).
const { Command, CommanderError, Option }: typeof import('commander') = createRequire(import.meta.url)('commander');
type Command = CommandType;
type Option = OptionType;

/** The one error handler (cli/handle-error.ts), loaded when something fails. */
async function handleError(error: unknown, options: { json?: boolean; command?: string }): Promise<void> {
  (await import('./handle-error.js')).handleError(error, options);
}

// Each command loads its own modules on use: `status` must not pay for pino or XState's runtime.
const program = new Command()
  .name('kms-recover')
  .description('Recover an Exchange 5.5 Key Management Server after a complete rebuild (Microsoft KB Q198814), resumably.')
  .version(TOOL_VERSION)
  // A usage error is one line, said by handleError below, not commander's message and help.
  .configureOutput({ outputError: () => undefined })
  .exitOverride((err) => {
    process.exitCode = err.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    throw err;
  });

// No default: commander would print "(default: [])"; the commands read an absent option as none.
const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

/**
 * Options a command cannot run without. commander checks its own required options before the
 * unknown ones, so `start --bogus` would be told --kmsdata is missing: these are checked after
 * (program's preAction hook below), with commander's words.
 */
const mandatory = new WeakSet<Option>();
const requiredOption = (flags: string, description: string) => {
  const option = new Option(flags, `${description} (required)`);
  mandatory.add(option);
  return option;
};
const dbHelp = `the kms-recover database (default: $KMS_RECOVER_DB, else a kms-recover.db in the current folder, else ${databasePlace(undefined).defaultPath})`;
const dbOption = () => new Option('--db <file>', dbHelp);

/** Runs an action; any failure goes to the one error handler. */
function run<A extends unknown[]>(action: (...args: A) => Promise<void> | void) {
  return async (...args: A) => {
    // commander passes the command's options just before the Command itself.
    const opts = (args.at(-2) ?? {}) as { json?: boolean; db?: string };
    const command = args.at(-1);
    try {
      configureLeaseStaleness(process.env.KMS_RECOVER_LEASE_STALE_SECONDS);
      await action(...args);
    } catch (error) {
      await handleError(await asToolError(error, opts.db), { json: Boolean(opts.json), command: command instanceof Command ? commandPath(command) : undefined });
    }
  };
}

/** `start`, `sim init`: the command's words after kms-recover. */
function commandPath(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c && c.parent; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/** The command a command line names, as far as it names one (for the usage error's `see ... --help`). */
function commandOf(argv: readonly string[]): string | undefined {
  let command: Command = program;
  for (const word of argv) {
    if (word.startsWith('-')) continue;
    const sub = command.commands.find((c) => c.name() === word || c.aliases().includes(word));
    if (!sub) break;
    command = sub;
  }
  return command === program ? undefined : commandPath(command);
}

/**
 * SQLite errors met after opening (busy, damaged pages, the disk failing) get the database's
 * codes too, and a disk error of any file FILE_IO: an I/O error is never reported as a bug.
 */
async function asToolError(error: unknown, db: string | undefined): Promise<unknown> {
  if (!String((error as { code?: unknown })?.code ?? '').startsWith('SQLITE_')) return (await import('../host/fs/file-errors.js')).asFileIoError(error);
  const { databaseError } = await import('../persistence/database-errors.js');
  return databaseError(error, databasePlace(db).path);
}

program.command('start')
  .description('check the prerequisites, create a run and drive the recovery as far as it can go')
  .addOption(requiredOption('--kmsdata <dir>', 'the reinstalled server\'s Exchsrvr\\Kmsdata folder'))
  .addOption(requiredOption('--backup <dir>', 'the backup of the ORIGINAL Kmsdata folder (read only, never changed)'))
  .addOption(new Option('--adapter <name>', 'how to reach the server: windows (the Windows service control manager; the default on Windows) or sim (the simulator; the default elsewhere)').choices(['sim', 'windows']))
  .option('--server <name>', 'windows: drive the KMS of this server from a workstation; --kmsdata is then on its admin share, \\\\NAME\\C$\\exchsrvr\\KMSDATA')
  .option('--sim-root <dir>', 'root of the simulated host (default: the folder holding Exchsrvr)')
  .option('--startup-disk <file>', 'the original startup disk, Kmspwd.ini (else KMS_ALPHA_STRING, else a hidden prompt)')
  .option('--manual <step>', 'make a step an operator task: the run stops there until `kms-recover confirm` (repeatable; steps below)', collect)
  .option('--timeout <step=seconds>', `time limit of one attempt of a step, ${RANGES.timeout} (repeatable)`, collect)
  .option('--attempts <step=n>', `attempts of a step, automatic retries included, ${RANGES.attempts} (repeatable)`, collect)
  .option('--backoff <step=seconds>', `first wait before retrying a step, ${RANGES.backoff}; doubles per attempt, with jitter (repeatable)`, collect)
  .option('--settle <seconds>', `how long the started KMS must keep running, on the restored database and without an error, before the run is running (${RANGES.settle}; default ${DEFAULT_SETTLE_SECONDS} s)`)
  .option('--original-name <name>', 'the ORIGINAL server\'s computer name: refuse to start on a computer with another name (KB Q198814: the same name)')
  .option('--dry-run', 'check the prerequisites and print the plan of every step; change nothing, write no run, ask for no alpha string')
  .addOption(dbOption())
  .option('--json', 'print the final status as JSON on stdout')
  .action(run(async (opts) => (await import('./commands/start.js')).startCommand(opts)));

program.command('resume')
  .description('continue the latest unfinished run, or the one named, from its last checkpoint')
  .argument('[run-id]', 'run id or unique prefix (default: the latest unfinished run)', parseRunId)
  .option('--startup-disk <file>', 'the original startup disk, Kmspwd.ini (else KMS_ALPHA_STRING, else a hidden prompt)')
  .option('--from <state>', 'go back to an earlier state and redo the steps from there (asks first)')
  .option('--yes', 'confirm --from without a terminal prompt')
  .option('--timeout <step=seconds>', `change the time limit of one attempt of a step (${RANGES.timeout}; repeatable; recorded)`, collect)
  .option('--attempts <step=n>', `change the attempts of a step (${RANGES.attempts}; repeatable; recorded)`, collect)
  .option('--backoff <step=seconds>', `change the first wait before retrying a step (${RANGES.backoff}; repeatable; recorded)`, collect)
  .option('--settle <seconds>', `change the settle window of the start (${RANGES.settle}; recorded)`)
  .addOption(dbOption())
  .option('--json', 'print the final status as JSON on stdout')
  .action(run(async (runId: string | undefined, opts) => (await import('./commands/resume.js')).resumeCommand(runId, opts)));

program.command('confirm')
  .description('say a manual step is done; the run verifies what it can on the server and goes on')
  .argument('<run-id>', 'run id or unique prefix', parseRunId)
  .argument('<step>', `the manual step: ${STEP_NAME_WORDS}`)
  .option('--startup-disk <file>', 'the original startup disk, Kmspwd.ini (else KMS_ALPHA_STRING, else a hidden prompt)')
  .addOption(dbOption())
  .option('--json', 'print the final status as JSON on stdout')
  .action(run(async (runId: string, step: string, opts) => (await import('./commands/confirm.js')).confirmCommand(runId, step, opts)));

program.command('abandon')
  .description('end a run on purpose: it is never driven again, its server is released, nothing on the server is changed')
  .argument('<run-id>', 'run id or unique prefix', parseRunId)
  .option('--yes', 'confirm without a terminal prompt')
  .option('--reason <text>', 'why, for the event log')
  .option('--kmsdata <dir>', 'release the claim on this server of a run that its database no longer holds (the database was lost)')
  .addOption(new Option('--adapter <name>', 'with --kmsdata: how to reach the server').choices(['sim', 'windows']))
  .option('--sim-root <dir>', 'with --kmsdata and the simulator: its root')
  .addOption(dbOption())
  .option('--json', 'print as JSON')
  .action(run(async (runId: string, opts) => (await import('./commands/abandon.js')).abandonCommand(runId, opts)));

program.command('takeover')
  .description('take a run\'s lease from a holder that died (another host: only with confirmation)')
  .argument('<run-id>', 'run id or unique prefix', parseRunId)
  .option('--yes', 'confirm without a terminal prompt')
  .addOption(dbOption())
  .option('--json', 'print as JSON')
  .action(run(async (runId: string, opts) => (await import('./commands/takeover.js')).takeoverCommand(runId, opts)));

program.command('status')
  .description('where a run stands: the six states with times, the last error, and the next step in the KB\'s words')
  .argument('[run-id]', 'run id or unique prefix (default: the latest run)', parseRunId)
  .addOption(dbOption())
  .option('--utc', 'times in UTC (default: local time, its offset said once in the header)')
  .option('--json', 'print as JSON')
  .action(run(async (runId: string | undefined, opts) => (await import('./commands/status.js')).statusCommand(runId, opts)));

program.command('watch')
  .description('a live checklist of a run, from any console; a run nobody drives is watched until someone resumes or confirms it, and followed until it rests again (finished, failed, waiting for you, interrupted) or is abandoned; reads the database only')
  .argument('[run-id]', 'run id or unique prefix (default: the latest run)', parseRunId)
  .addOption(dbOption())
  .option('--utc', 'times in UTC (default: local time, its offset said once in the header)')
  .option('--json', 'print the final status as JSON on stdout')
  .option('--once', 'print the screen (or --json\'s status) once and end, without waiting (for scripts)')
  .action(run(async (runId: string | undefined, opts) => (await import('./commands/watch.js')).watchCommand(runId, opts)));

program.command('list')
  .description('the runs in the database, newest first (the 20 newest; --all for every one)')
  .option('--all', 'every run')
  .option('--limit <n>', 'the n newest runs')
  .addOption(dbOption())
  .option('--json', 'print as JSON')
  .option('--utc', 'times in UTC (default: local time, its offset said once in the header)')
  .action(run(async (opts) => (await import('./commands/list.js')).listCommand(opts)));

program.command('history')
  .description('the full event log of a run, oldest first, in words (--json: the raw events)')
  .argument('[run-id]', 'run id or unique prefix (default: the latest run)', parseRunId)
  .addOption(dbOption())
  .option('--utc', 'times in UTC (default: local time, its offset said once in the header)')
  .option('--json', 'print as JSON')
  .action(run(async (runId: string | undefined, opts) => (await import('./commands/history.js')).historyCommand(runId, opts)));

program.command('report')
  .description('the incident report of a run (default: the latest), for security and management: what was proved, deleted, who drove it, the errors met; reads the database only')
  .argument('[run-id]', 'run id or unique prefix (default: the latest run)', parseRunId)
  .addOption(new Option('--format <format>', 'html (one self-contained file: opens offline, prints on A4 or Letter), md (to paste into a ticket) or json (for scripts)').choices(['html', 'md', 'json']).default('html'))
  .option('-o, --output <file>', 'write it to this file (default: kms-recover-report-<run>.<html|md|json> in the current folder; - for standard output)')
  .addOption(dbOption())
  .action(run(async (runId: string | undefined, opts) => (await import('./commands/report.js')).reportCommand(runId, opts)));

program.command('check-db')
  .description('check the whole database for damage now (every table and index; other commands check what they read, and a command that writes the whole file once a day); changes nothing')
  .addOption(dbOption())
  .option('--json', 'print as JSON')
  .addHelpText('after', `\nExit 0 when no damage is found; ${EXIT.DATABASE} (DB_CORRUPT) when the database is damaged.`)
  .action(run(async (opts) => (await import('./commands/check-db.js')).checkDbCommand(opts)));

program.command('diagram')
  .description('the recovery as one chain of the six KB steps, with where a run stands; --detail: the full state machine for engineers')
  .addOption(new Option('--format <format>', 'text (the default: plain text for the terminal), mermaid, dot or svg').choices(['text', 'mermaid', 'dot', 'svg']))
  .option('--run <id>', 'show this run (id or unique prefix); default: the latest run of the database, if there is one', parseRunId)
  .option('--no-run', 'show no run, even beside a database')
  .option('--detail', 'the full state machine: substates, events and guards (shows a run in mermaid, dot or svg only with --run)')
  .option('-o, --output <file>', 'write the diagram to this file (in an existing folder) instead of stdout')
  .addOption(dbOption())
  .action(run(async (opts) => (await import('./commands/diagram.js')).diagramCommand(opts)));

program.command('demo')
  .description('build a simulated server in a temporary folder and recover it end to end')
  .option('--dir <dir>', 'build the simulated server here instead of a temporary folder')
  .option('--settle <seconds>', 'the settle window of the start (default for the demo: 3 s; a real recovery waits 15 s)')
  .addOption(dbOption())
  .option('--json', 'print the final status as JSON on stdout')
  .action(run(async (opts) => {
    const { demoServer, demoEnding } = await import('./commands/demo.js');
    const start = await demoServer(opts);
    await (await import('./commands/start.js')).startCommand(start);
    demoEnding(start);
  }));

const sim = program.command('sim').description('the process-level KMS simulator used by the demo and the tests');
sim.command('init')
  .description('build an original KMS, back it up, write its startup disk, then "reinstall" it with a new alpha string')
  .argument('<dir>', 'an empty or new folder')
  .option('--extra-files <n>', 'add n more files to the original Kmsdata')
  .option('--extra-bytes <n>', 'spread n more bytes over those files')
  .option('--computer-name <name>', 'the simulated computer\'s name (default KMS01)')
  .option('--json', 'print { root, kmsdata, backup, startupDisk }')
  .action(run(async (dir: string, opts) => (await import('./commands/sim.js')).simInitCommand(dir, opts)));
sim.command('status')
  .description('the simulated MSExchangeKMS service')
  .argument('<dir>', 'the simulated host')
  .option('--json', 'print as JSON')
  .action(run(async (dir: string, opts) => (await import('./commands/sim.js')).simStatusCommand(dir, opts)));
sim.command('start')
  .description('start the simulated MSExchangeKMS service as an operator would, with an alpha string')
  .argument('<dir>', 'the simulated host')
  .option('--startup-disk <file>', 'the startup disk, Kmspwd.ini (else KMS_ALPHA_STRING, else a hidden prompt)')
  .action(run(async (dir: string, opts) => (await import('./commands/sim.js')).simStartCommand(dir, opts)));
sim.command('stop')
  .description('stop the simulated MSExchangeKMS service')
  .argument('<dir>', 'the simulated host')
  .action(run(async (dir: string) => (await import('./commands/sim.js')).simStopCommand(dir)));
sim.command('rename')
  .description('give the simulated computer another name (as a rebuild under another name would)')
  .argument('<dir>', 'the simulated host')
  .argument('<name>', 'the new computer name (NetBIOS rules: up to 15 characters)')
  .action(run(async (dir: string, name: string) => (await import('./commands/sim.js')).simRenameCommand(dir, name)));
sim.command('reboot')
  .description('power loss and boot: kill the KMS daemon, then start the automatic services as Windows does')
  .argument('<dir>', 'the simulated host')
  .option('--json', 'print as JSON')
  .action(run(async (dir: string, opts) => (await import('./commands/sim.js')).simRebootCommand(dir, opts)));

// Every command's help ends with examples; start's and resume's list the steps and ranges first.
// Built when a help is shown, not on every start.
for (const command of [program, ...program.commands, ...sim.commands]) {
  const name = commandPath(command);
  if (name === 'start' || name === 'resume') command.addHelpText('after', () => stepsHelp());
  command.addHelpText('after', () => examplesHelp(name));
}

// The required options, once commander has refused unknown options and wrong arguments.
program.hook('preAction', (_program, command) => {
  for (const option of command.options) {
    if (mandatory.has(option) && command.getOptionValue(option.attributeName()) === undefined) {
      command.error(`error: required option '${option.flags}' not specified`, { code: 'commander.missingMandatoryOptionValue' });
    }
  }
});

try {
  await program.parseAsync(process.argv);
} catch (error) {
  const argv = process.argv.slice(2);
  const json = argv.includes('--json');
  if (error instanceof CommanderError) {
    // --help, --version, and the help shown when no command is given: already printed.
    if (error.exitCode === 0 || error.code === 'commander.help' || error.code === 'commander.helpDisplayed') {
      process.exitCode = error.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    } else {
      await handleError(usageError(error.message), { json, command: commandOf(argv) });
    }
  } else {
    // A run id refused while the arguments were parsed (cli/run-id.ts), or a failure of ours.
    await handleError(error, { json, command: commandOf(argv) });
  }
}

/** commander's `error: unknown option '--bogus'` as the tool's usage error. */
function usageError(message: string): KmsRecoverError {
  return new KmsRecoverError('USAGE', message.replace(/^error: /, '').replace(/\.$/, '').replace(/\s*\n\s*/g, ' '));
}
