import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { campaignSeed } from './kill-schedule.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Where test/helpers/sim-fixture.ts keeps the simulated servers it builds once per run. */
    simTemplateDir: string;
    /** The seed of this run's random-kill campaign, the same for both of its shards (KMS_RECOVER_KILL_SEED, else a fresh one). */
    killSeed: number;
  }
}

/**
 * Once per `vitest run`: the folder of the simulated servers the fixtures are copied from, shared
 * by every worker and removed at the end; and the random-kill campaign's seed.
 */
export default function setup(project: TestProject): () => void {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kms-templates-'));
  project.provide('simTemplateDir', dir);
  project.provide('killSeed', campaignSeed());
  return () => fs.rmSync(dir, { recursive: true, force: true });
}
