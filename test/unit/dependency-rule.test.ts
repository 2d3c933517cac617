import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/run-cli.js';

/*
 * The README's dependency rule, checked against the code: which folder may import which, no
 * import cycle between files, and no write to a run's store outside its fenced writer.
 */

const FOLDERS = ['domain', 'errors', 'machines', 'present', 'persistence', 'host', 'recovery', 'diagrams', 'report', 'cli'] as const;
type Folder = (typeof FOLDERS)[number];

/** What each folder may import (besides itself and packages), as the README states it. */
const MAY_IMPORT: Record<Folder, readonly Folder[]> = {
  domain: [],
  errors: ['domain'],
  machines: ['domain', 'errors'],
  persistence: ['machines', 'domain', 'errors'],
  present: ['machines', 'domain', 'errors', 'persistence'],
  host: ['domain', 'errors'],
  recovery: ['present', 'machines', 'persistence', 'host', 'domain', 'errors'],
  diagrams: ['recovery', 'present', 'machines', 'persistence', 'host', 'domain', 'errors'],
  report: ['recovery', 'present', 'machines', 'persistence', 'domain', 'errors'],
  cli: ['report', 'diagrams', 'recovery', 'present', 'machines', 'persistence', 'host', 'domain', 'errors'],
};

function sources(folder: string): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(full);
    }
  };
  walk(path.join(REPO_ROOT, folder));
  return out;
}

const files = FOLDERS.flatMap(sources);
/** Each file's relative imports, resolved to files (type-only imports included: a cycle of types is still a tangle). */
const imports = new Map(files.map((file) => {
  const text = fs.readFileSync(file, 'utf8');
  const targets = [...text.matchAll(/^(?:import|export)[^'"]*?from '(\.[^']+)'/gm)]
    .map((m) => path.resolve(path.dirname(file), m[1]!.replace(/\.js$/, '.ts')));
  return [file, targets] as const;
}));
const folderOf = (file: string) => path.relative(REPO_ROOT, file).split(path.sep)[0] as Folder;

describe('the dependency rule', () => {
  it('each folder imports only the folders the README allows', () => {
    const broken: string[] = [];
    for (const [file, targets] of imports) {
      const from = folderOf(file);
      for (const target of targets) {
        const to = folderOf(target);
        if (to !== from && !MAY_IMPORT[from].includes(to)) broken.push(`${path.relative(REPO_ROOT, file)} -> ${path.relative(REPO_ROOT, target)}`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('has no import cycle between files', () => {
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const visit = (file: string, trail: string[]) => {
      if (state.get(file) === 'done') return;
      if (state.get(file) === 'open') {
        cycles.push([...trail.slice(trail.indexOf(file)), file].map((f) => path.relative(REPO_ROOT, f)).join(' -> '));
        return;
      }
      state.set(file, 'open');
      for (const target of imports.get(file) ?? []) visit(target, [...trail, file]);
      state.set(file, 'done');
    };
    for (const file of files) visit(file, []);
    expect(cycles).toEqual([]);
  });

  it('writes a run only through its fenced writer: no store write outside persistence/', () => {
    const writes = /\bstore\.(checkpoint|beginStep|note|scheduleRetry|migrateDefinition|updateOptions|recordProgress|recordQuarantined|recordStartRequested|recordPromoting|close)\(/;
    const outside = files.filter((file) => folderOf(file) !== 'persistence' && writes.test(fs.readFileSync(file, 'utf8')));
    expect(outside.map((file) => path.relative(REPO_ROOT, file))).toEqual([]);
  });
});
