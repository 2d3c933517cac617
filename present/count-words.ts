/** `1 entry`, `3 entries`: a count with the word that agrees with it. */
export function countWords(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** What is left, by name: `certs` or `3 entries: certs, kms.edb, logs`; more than `shown` end with `and N more`. */
export function namesWords(names: readonly string[], shown = 5): string {
  if (names.length === 1) return names[0]!;
  const listed = names.slice(0, shown).join(', ');
  const more = names.length > shown ? ` and ${names.length - shown} more` : '';
  return `${countWords(names.length, 'entry', 'entries')}: ${listed}${more}`;
}
