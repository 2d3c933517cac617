import { fileURLToPath } from 'node:url';
import { COMMAND_NAMES } from '../present/command-names.js';
import { ownInvocation, thisInvocationFacts, type Invocation } from '../host/own-invocation.js';

/**
 * Every command the tool prints works when typed as printed in the console it was printed in.
 * The tool's words (stored errors, recovery/, present/) say `kms-recover <command> …`; the CLI
 * renders them as they go out: the program as it was invoked here (`npx kms-recover`,
 * `kms-recover` when that is this CLI on the PATH, else `node <its script>`), and the database
 * the command used when a later command would not find it by itself (named by --db, or an old
 * ./kms-recover.db found in this folder; KMS_RECOVER_DB stays set in this console).
 */

export interface PrintedContext {
  invocation: Invocation;
  /** The database to name with --db; null when the printed command finds it without. */
  db: string | null;
}

const NO_DATABASE = new Set(['sim', '--help', '--version']);
/** `kms-recover <command>` where it starts a word (not in `/var/lib/kms-recover/…`), not already after `npx`. */
const PRINTED = new RegExp(`(?<![\\w./\\\\-])(?<!npx )kms-recover (${COMMAND_NAMES.join('|')})(?=$|[\\s,;:.)\`'"])`, 'g');

/** A path as one word for a POSIX shell and for cmd.exe. */
export function quoteWord(word: string): string {
  return /^[\w:\\/.+@-]+$/.test(word) ? word : `"${word}"`;
}

export function programWords(invocation: Invocation): string {
  switch (invocation.kind) {
    case 'npx': return 'npx kms-recover';
    case 'path': return 'kms-recover';
    case 'node': return `node ${quoteWord(invocation.script)}`;
  }
}

/**
 * `kms-recover resume 1a2b` as typed here: `npx kms-recover resume --db /srv/k.db 1a2b`. The
 * database goes right after the command's name, unless the command names one already (up to
 * the end of its clause), is `sim`, or asks for --help. Pure; idempotent.
 */
export function renderCommands(text: string, context: PrintedContext): string {
  const program = programWords(context.invocation);
  return text.replace(PRINTED, (match: string, command: string, offset: number) => {
    const rest = clauseAfter(text, offset + match.length);
    const db = context.db !== null && !NO_DATABASE.has(command) && !/(^|\s)--db[\s=]/.test(rest) && !/^\s*--help\b/.test(rest);
    return `${program} ${command}${db ? ` --db ${quoteWord(context.db!)}` : ''}`;
  });
}

/** The rest of a command's clause: up to the next line, clause, bracket or command. */
function clauseAfter(text: string, from: number): string {
  const rest = text.slice(from);
  const end = rest.search(/\n|, |; |\)|kms-recover /);
  return end < 0 ? rest : rest.slice(0, end);
}

/** Which database origins a printed command must name (DatabasePlace.origin, cli/database-location.ts). */
export function databaseToName(place: { path: string; origin: string }): string | null {
  return place.origin === 'option' || place.origin === 'found-here' ? place.path : null;
}

let invocation: Invocation | null = null;
let database: string | null = null;

/** The database the command works on (cli/database-location.ts says so when it resolves it). */
export function commandsUseDatabase(place: { path: string; origin: string }): void {
  database = databaseToName(place);
}

/** This console's context: how the CLI was invoked (found once), and the database in use. */
export function printedContext(): PrintedContext {
  invocation ??= ownInvocation(thisInvocationFacts(fileURLToPath(new URL('./index.js', import.meta.url))));
  return { invocation, db: database };
}

/** Text the CLI prints, with its commands as they work here. */
export function printed(text: string): string {
  return text.includes('kms-recover ') ? renderCommands(text, printedContext()) : text;
}

/** The command-bearing fields of a status for --json: `next`, `resumeCommand`, `waitingFor.command`. */
export function printedStatus<T extends { next: string | null; resumeCommand?: string; waitingFor?: { command: string } | null }>(status: T): T {
  return {
    ...status,
    next: status.next === null ? null : printed(status.next),
    ...(status.resumeCommand === undefined ? {} : { resumeCommand: printed(status.resumeCommand) }),
    ...(status.waitingFor ? { waitingFor: { ...status.waitingFor, command: printed(status.waitingFor.command) } } : {}),
  };
}
