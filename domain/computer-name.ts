/**
 * A Windows computer's NetBIOS name, as KB Q198814's "a computer with the same name" means it:
 * 1 to 15 characters, none of the characters Windows refuses in a computer name, compared
 * without regard to case. This module imports nothing.
 */

export const NETBIOS_NAME_MAX = 15;

/** Characters Windows does not allow in a computer name (Microsoft's naming conventions for NetBIOS computer names). */
const FORBIDDEN = /[\\/:*?"<>|,~!@#$%^&'.(){}_\s]/;

/** Why `name` is not a NetBIOS computer name, or null when it is one. */
export function netbiosNameProblem(name: string): string | null {
  if (name.length === 0) return 'it is empty';
  if (name.length > NETBIOS_NAME_MAX) return `it has ${name.length} characters; a computer name has at most ${NETBIOS_NAME_MAX}`;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(name)) return 'it holds a control character';
  const bad = FORBIDDEN.exec(name);
  if (bad) return `it holds "${bad[0] === ' ' ? 'a space' : bad[0]}", which a Windows computer name cannot`;
  if (/^\d+$/.test(name)) return 'it is only digits, which a Windows computer name cannot be';
  return null;
}

/** Computer names are compared as Windows does: without regard to case. */
export function sameComputerName(a: string, b: string): boolean {
  return a.toUpperCase() === b.toUpperCase();
}
