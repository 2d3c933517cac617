import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/run-cli.js';
import { cliLimit } from '../helpers/time-limit.js';

/**
 * The README's screens are the tool's own output: scripts/readme-screens.mjs runs the demo and
 * the typical commands on the simulator again (about eight kms-recover processes) and compares
 * what they print with the README's blocks.
 */
describe('README screens', () => {
  it('match what the tool prints now (else: npm run readme-screens)', async () => {
    const child = spawn(process.execPath, [path.join(REPO_ROOT, 'scripts/readme-screens.mjs'), '--check'], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => { output += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { output += d.toString(); });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code, output).toBe(0);
    expect(output).toMatch(/README\.md's \d+ screens match the tool/);
  }, cliLimit(10));
});
