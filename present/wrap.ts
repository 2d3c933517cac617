/**
 * Text laid out to a width, for every screen: lines break only where there is a space, so a
 * word, a path or a quoted argument is never split (one longer than the width stays whole on a
 * line of its own). Continuation lines hang under the first line's text.
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
  for (const m of line.slice(lead.length).matchAll(/( *)(\S+)/g)) {
    const gap = m[1] ?? '';
    const word = m[2] ?? '';
    if (fresh) {
      current += word;
      fresh = false;
    } else if (current.length + gap.length + word.length <= width) {
      current += gap + word;
    } else {
      out.push(current);
      current = indent + word;
    }
  }
  out.push(current);
  return out;
}

/**
 * `label` and `value` on one line when they fit; else the label alone and the value on the lines
 * under it, indented, so a command starts whole on a line of its own and breaks only between its
 * arguments.
 */
export function labelled(label: string, value: string, width: number, indent = 2): string[] {
  const one = `${label} ${value}`;
  if (one.length <= width) return [one];
  const pad = ' '.repeat(indent);
  return [label, ...wrap(`${pad}${value}`, width, indent + 2)];
}
