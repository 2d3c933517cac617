import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { KmsRecoverError } from '../../errors/index.js';

const PACKAGE_NAME = 'kms-recover';

function isPackageRoot(dir: string): boolean {
  const file = path.join(dir, 'package.json');
  if (!existsSync(file)) return false;
  try {
    return (JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown }).name === PACKAGE_NAME;
  } catch {
    return false;
  }
}

/** The kms-recover package root, found by walking up from this module (source or compiled). */
export function packageRoot(from: string = fileURLToPath(import.meta.url)): string {
  let dir = path.dirname(from);
  for (;;) {
    if (isPackageRoot(dir)) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) {
      throw new KmsRecoverError('INTERNAL', `cannot find the ${PACKAGE_NAME} package root above ${from}`, { from });
    }
    dir = parent;
  }
}

/**
 * The absolute path of the COMPILED simulator daemon, `<pkgroot>/dist/host/sim/kms-daemon.js`.
 * Always the compiled file, so tests that run the .ts sources still spawn plain node.
 */
export function daemonEntryPath(): string {
  const file = path.join(packageRoot(), 'dist', 'host', 'sim', 'kms-daemon.js');
  if (!existsSync(file)) {
    throw new KmsRecoverError('INTERNAL', 'the simulator daemon is not built: run npm run build', { expected: file });
  }
  return file;
}
