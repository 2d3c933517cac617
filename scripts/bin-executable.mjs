// `npm ci` links the `kms-recover` bin before `prepare` builds dist/, so npm cannot mark the
// built file executable, and `npx kms-recover` then fails with "Permission denied" on a fresh
// clone. The build marks it itself (a no-op on Windows, where npm's bin shims call node).
import { chmodSync } from 'node:fs';

chmodSync(new URL('../dist/cli/index.js', import.meta.url), 0o755);
