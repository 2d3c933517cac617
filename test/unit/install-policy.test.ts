import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/*
 * .prebuild-installrc: better-sqlite3's prebuilt binary on Windows (no C++ toolchain there), a
 * source build and no download anywhere else. Read with rc's own parser, as prebuild-install reads it.
 */
const root = path.resolve(import.meta.dirname, '../..');
const pkgDir = path.join(root, 'node_modules', 'better-sqlite3');
const require = createRequire(import.meta.url);
const { parse } = require('rc/lib/utils') as { parse: (text: string) => Record<string, unknown> };
const rc = parse(readFileSync(path.join(root, '.prebuild-installrc'), 'utf8'));

describe('.prebuild-installrc', () => {
  it('forces nothing by itself: no buildFromSource, no download, no force', () => {
    expect(Object.keys(rc)).toEqual(['path']);
  });

  it('on Windows its path is the package folder itself, so prebuild-install downloads the prebuilt binary', () => {
    const winPkg = 'C:\\kms-recover\\node_modules\\better-sqlite3';
    expect(path.win32.resolve(winPkg, String(rc.path))).toBe(winPkg);
  });

  it('on Linux its path does not exist: prebuild-install stops before any download and node-gyp builds', () => {
    const target = path.posix.resolve(pkgDir, String(rc.path));
    expect(target).not.toBe(pkgDir);
    expect(existsSync(target)).toBe(false);
    const run = spawnSync(process.execPath, [require.resolve('prebuild-install/bin.js'), '--verbose'], { cwd: pkgDir, encoding: 'utf8' });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/ENOENT: no such file or directory, chdir/);
    expect(run.stderr).not.toMatch(/http|looking for/i);
  });
});
