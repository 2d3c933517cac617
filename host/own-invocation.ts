import fs from 'node:fs';
import path from 'node:path';

/**
 * How this very CLI can be typed again in the console it was started from:
 * - `npx`: it was started by `npx kms-recover` (or `npm exec`), which npm marks npm_command=exec;
 * - `path`: the first `kms-recover` on the PATH is this CLI (an `npm link` or `npm install -g .`
 *   of this copy); on Windows npm's `kms-recover.cmd` shim is taken at its word;
 * - `node`: neither, so only `node <script>` is sure to start it.
 */
export type Invocation = { kind: 'npx' } | { kind: 'path' } | { kind: 'node'; script: string };

export interface InvocationFacts {
  platform: NodeJS.Platform;
  env: NodeJS.ProcessEnv;
  /** The CLI's own script, dist/cli/index.js. */
  script: string;
  /** The file a path names after following every link; null when there is none. */
  realPath: (file: string) => string | null;
}

export function thisInvocationFacts(script: string): InvocationFacts {
  return { platform: process.platform, env: process.env, script, realPath: realPathOrNull };
}

function realPathOrNull(file: string): string | null {
  try {
    return fs.realpathSync(file);
  } catch {
    return null;
  }
}

export function ownInvocation(facts: InvocationFacts): Invocation {
  if (facts.env.npm_command === 'exec') return { kind: 'npx' };
  const script = facts.realPath(facts.script) ?? facts.script;
  const found = firstOnPath(facts);
  if (found !== null && (facts.platform === 'win32' || facts.realPath(found) === script)) return { kind: 'path' };
  return { kind: 'node', script };
}

/**
 * The `kms-recover` a shell of this console would start: the first on the PATH, leaving out
 * the node_modules/.bin folders npm puts in front for its scripts and npx (a console without
 * npm does not have them).
 */
function firstOnPath(facts: InvocationFacts): string | null {
  const p = facts.platform === 'win32' ? path.win32 : path.posix;
  const value = facts.platform === 'win32' ? facts.env.Path ?? facts.env.PATH ?? '' : facts.env.PATH ?? '';
  const name = facts.platform === 'win32' ? 'kms-recover.cmd' : 'kms-recover';
  for (const dir of value.split(p.delimiter)) {
    if (!dir || !p.isAbsolute(dir) || /[\\/]node_modules[\\/]\.bin[\\/]?$/.test(dir)) continue;
    const candidate = p.join(dir, name);
    if (facts.realPath(candidate) !== null) return candidate;
  }
  return null;
}
