import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Where test/helpers/sim-fixture.ts keeps the simulated servers it builds once per run. */
    simTemplateDir: string;
  }
}

/** One folder for the whole `vitest run`, shared by every worker, removed at its end. */
export default function setup(project: TestProject): () => void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kms-templates-'));
  project.provide('simTemplateDir', dir);
  return () => fs.rmSync(dir, { recursive: true, force: true });
}
