import { COMMAND_NAMES } from './command-names.js';

/**
 * Text laid out to a width, for every screen: lines break only where there is a space, so a
 * word, a path or a quoted argument is never split (one longer than the width stays whole on a
 * line of its own), and a command inside a sentence starts on a new line rather than breaking;
 * one longer than a line stands whole on a line of its own, to be copied and pasted as one.
 * Continuation lines hang under the first line's text.
 */

/** The width a screen uses when it cannot tell (not a terminal, no COLUMNS). */
export const DEFAULT_WIDTH = 80;

/**
 * Where continuation lines start: under the value of a `Label:   value` line (`Next: `,
 * `kms-recover: `, `Driven by: `) or of a `[3/5] ` mark, else two further in than the line's own
 * indent.
 */
export function hangOf(line: string, width: number): number {
  const lead = line.length - line.trimStart().length;
  const label = /^ *[A-Za-z][\w -]{0,20}?: +(?=\S)/.exec(line) ?? /^ *\[[^\]]{1,5}\] (?=\S)/.exec(line);
  const hang = label ? label[0].length : lead + 2;
  return hang <= width / 3 ? hang : Math.min(lead + 2, Math.floor(width / 3));
}

/**
 * `text` in lines of at most `width` characters, broken at spaces; each line of `text` (it may
 * hold `\n`) is wrapped on its own. `hang`: the indent of continuation lines (default `hangOf`).
 * Spaces inside a line that fits are kept as they are (a table's padding).
 */
export function wrap(text: string, width: number, hang?: number): string[] {
  return text.split('\n').flatMap((line) => wrapLine(line.trimEnd(), width, hang));
}

function wrapLine(line: string, width: number, hang?: number): string[] {
  if (line.length <= width) return [line];
  const indent = ' '.repeat(hang ?? hangOf(line, width));
  const lead = line.slice(0, line.length - line.trimStart().length);
  const out: string[] = [];
  let current = lead;
  let fresh = true; // `current` holds no word yet
  const place = (gap: string, word: string): void => {
    if (fresh) current += word;
    else if (current.length + gap.length + word.length <= width) current += gap + word;
    else {
      out.push(current);
      current = indent + word;
    }
    fresh = false;
  };
  for (const unit of unitsOf(line.slice(lead.length))) {
    const whole = unit.words.map((w, i) => (i === 0 ? w.word : w.gap + w.word)).join('');
    if (unit.words.length === 1 || indent.length + whole.length <= width) {
      place(unit.words[0]!.gap, whole);
      continue;
    }
    // A command longer than a line stands whole on a line of its own, wider than the screen (the
    // terminal wraps it): broken between its arguments, a paste would run each line on its own.
    if (current.trim() !== '') out.push(current);
    out.push((current.trim() === '' ? current : indent) + whole);
    current = indent;
    fresh = true;
  }
  if (!fresh || out.length === 0) out.push(current);
  return out;
}

interface Word { gap: string; word: string }

/** Words that end a command written inside a sentence (`run kms-recover resume 1a2b to go on`). */
const AFTER_COMMAND = new Set(['to', 'then', 'if', 'when', 'otherwise', 'and', 'or', '(or', 'it', '(it', 'which', 'once', 'shows', 'for', 'before', 'after', 'with', 'in', 'is', 'until']);

const COMMAND = new Set<string>(COMMAND_NAMES);

/**
 * Whether words[i] starts a command, as the CLI prints them (cli/printed-commands.ts):
 * `kms-recover <command>`, `npx kms-recover`, `node <its script> <command>`; or the one other
 * command a message prints, `mkdir` of the database's folder. `kms-recover` followed by anything
 * else is a word of a sentence (`no kms-recover database at …`).
 */
function commandStartsAt(words: readonly Word[], i: number): boolean {
  const word = words[i]!.word.replace(/^[(`'"]/, '');
  const next = words[i + 1]?.word.replace(/[`'".,;:)]+$/, '');
  if (next === undefined) return false;
  if (word === 'kms-recover') return COMMAND.has(next);
  if (word === 'npx') return next === 'kms-recover';
  if (word === 'node') return /\.[cm]?js$/.test(next) && COMMAND.has(words[i + 2]?.word.replace(/[`'".,;:)]+$/, '') ?? '');
  return word === 'mkdir';
}

/**
 * The line's words, a command (commandStartsAt) grouped as one unit: it is kept whole on a line.
 * It ends at a word ending a clause (`;` `,` `:` `)` `.`) or before a word of the sentence
 * around it. A date and its time, a number and its unit, are one unit too.
 */
function unitsOf(text: string): { words: Word[] }[] {
  // A quoted word (a path with spaces, as quoteWord prints it) is one word.
  const words: Word[] = [...text.matchAll(/( *)("[^"]*"\S*|\S+)/g)].map((m) => ({ gap: m[1] ?? '', word: m[2] ?? '' }));
  const units: { words: Word[] }[] = [];
  for (let i = 0; i < words.length; i++) {
    const first = words[i]!;
    const startsCommand = commandStartsAt(words, i);
    // A date with its time, a number with its unit (`26 seconds`, `3 s`).
    if ((/^\(?\d{4}-\d\d-\d\d$/.test(first.word) && /^\d\d:\d\d:\d\d/.test(words[i + 1]?.word ?? ''))
      || (/^\(?\d+(\.\d+)?$/.test(first.word) && /^[a-zA-Z]/.test(words[i + 1]?.word ?? ''))) {
      units.push({ words: [first, words[i + 1]!] });
      i += 1;
      continue;
    }
    if (!startsCommand) {
      units.push({ words: [first] });
      continue;
    }
    let j = i + 1;
    while (j < words.length && !/[;,:).]$/.test(words[j - 1]!.word) && !AFTER_COMMAND.has(words[j]!.word)) j++;
    units.push({ words: words.slice(i, j) });
    i = j - 1;
  }
  return units;
}

/**
 * `label` and `value` on one line when they fit; else the label alone and the value on the lines
 * under it, indented, so a command starts whole on a line of its own (and stays whole there).
 */
export function labelled(label: string, value: string, width: number, indent = 2): string[] {
  const one = `${label} ${value}`;
  if (one.length <= width) return [one];
  const pad = ' '.repeat(indent);
  return [label, ...wrap(`${pad}${value}`, width, indent + 2)];
}
