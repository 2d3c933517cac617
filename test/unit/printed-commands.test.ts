import { describe, expect, it } from 'vitest';
import { databaseToName, renderCommands, type PrintedContext } from '../../cli/printed-commands.js';
import { ownInvocation, type InvocationFacts } from '../../host/own-invocation.js';

/* Issue 22, item 1: a printed command is the invocation that works in the console it was printed in. */

const onPath: PrintedContext = { invocation: { kind: 'path' }, db: null };
const npx: PrintedContext = { invocation: { kind: 'npx' }, db: null };
const node: PrintedContext = { invocation: { kind: 'node', script: '/opt/kms recover/dist/cli/index.js' }, db: null };

describe('renderCommands', () => {
  it('says the program as it was invoked here', () => {
    const text = 'interrupted during KB step 4 (restoreKmsdata): nothing is lost; run kms-recover resume 1a2b3c4d';
    expect(renderCommands(text, onPath)).toBe(text);
    expect(renderCommands(text, npx)).toBe('interrupted during KB step 4 (restoreKmsdata): nothing is lost; run npx kms-recover resume 1a2b3c4d');
    expect(renderCommands(text, node)).toBe('interrupted during KB step 4 (restoreKmsdata): nothing is lost; run node "/opt/kms recover/dist/cli/index.js" resume 1a2b3c4d');
  });

  it('names the database right after the command, quoted when it has spaces; never for sim, --help or a command that names one', () => {
    const db: PrintedContext = { invocation: { kind: 'path' }, db: 'C:\\Recovery Data\\k.db' };
    expect(renderCommands('Next: kms-recover confirm 1a2b clearKmsdata --startup-disk A:\\Kmspwd.ini', db))
      .toBe('Next: kms-recover confirm --db "C:\\Recovery Data\\k.db" 1a2b clearKmsdata --startup-disk A:\\Kmspwd.ini');
    expect(renderCommands('stop it with: kms-recover sim stop /tmp/demo', { ...db, invocation: { kind: 'npx' } })).toBe('stop it with: npx kms-recover sim stop /tmp/demo');
    expect(renderCommands('bad option; see kms-recover start --help', db)).toBe('bad option; see kms-recover start --help');
    expect(renderCommands('continue it with kms-recover resume 1a2b --db /other.db, or end it with kms-recover abandon 1a2b', db))
      .toBe('continue it with kms-recover resume 1a2b --db /other.db, or end it with kms-recover abandon --db "C:\\Recovery Data\\k.db" 1a2b');
  });

  it('leaves the name alone where it is no command: a path, the program in words, an unknown word', () => {
    const text = 'no kms-recover database at /var/lib/kms-recover/kms-recover.db; run kms-recover as an administrator; finish it with the kms-recover that started it';
    expect(renderCommands(text, { invocation: { kind: 'npx' }, db: '/x.db' })).toBe(text);
    expect(renderCommands('/srv/kms-recover status', npx)).toBe('/srv/kms-recover status');
  });

  it('renders a rendered text to itself', () => {
    const context: PrintedContext = { invocation: { kind: 'npx' }, db: '/srv/k.db' };
    const once = renderCommands('Next: kms-recover resume 1a2b (or kms-recover status)', context);
    expect(once).toBe('Next: npx kms-recover resume --db /srv/k.db 1a2b (or npx kms-recover status --db /srv/k.db)');
    expect(renderCommands(once, context)).toBe(once);
  });

  it('names the database when --db or an old ./kms-recover.db chose it, not when KMS_RECOVER_DB (set in this console) or the default place did', () => {
    expect(databaseToName({ path: '/a.db', origin: 'option' })).toBe('/a.db');
    expect(databaseToName({ path: '/here/kms-recover.db', origin: 'found-here' })).toBe('/here/kms-recover.db');
    expect(databaseToName({ path: '/a.db', origin: 'environment' })).toBeNull();
    expect(databaseToName({ path: '/var/lib/kms-recover/kms-recover.db', origin: 'default' })).toBeNull();
  });
});

describe('ownInvocation', () => {
  const script = '/home/ann/kms-recover/dist/cli/index.js';
  /** A file system of links: each path to what it really is. */
  const facts = (env: NodeJS.ProcessEnv, files: Record<string, string>, platform: NodeJS.Platform = 'linux'): InvocationFacts =>
    ({ platform, env, script, realPath: (file) => files[file] ?? null });

  it('npx (npm_command=exec) wins', () => {
    expect(ownInvocation(facts({ npm_command: 'exec', PATH: '/usr/bin' }, {}))).toEqual({ kind: 'npx' });
  });

  it('kms-recover when the first on the PATH is this very CLI; the node_modules/.bin of npm scripts does not count', () => {
    const linked = { [script]: script, '/usr/local/bin/kms-recover': script, '/home/ann/kms-recover/node_modules/.bin/kms-recover': script };
    expect(ownInvocation(facts({ PATH: '/usr/bin:/usr/local/bin' }, linked))).toEqual({ kind: 'path' });
    expect(ownInvocation(facts({ PATH: '/home/ann/kms-recover/node_modules/.bin:/usr/bin' }, linked))).toEqual({ kind: 'node', script });
  });

  it('node <script> when the first kms-recover on the PATH is another copy, or there is none', () => {
    const other = { [script]: script, '/usr/bin/kms-recover': '/usr/lib/node_modules/kms-recover/dist/cli/index.js', '/usr/local/bin/kms-recover': script };
    expect(ownInvocation(facts({ PATH: '/usr/bin:/usr/local/bin' }, other))).toEqual({ kind: 'node', script });
    expect(ownInvocation(facts({ PATH: '/usr/bin' }, { [script]: script }))).toEqual({ kind: 'node', script });
  });

  it('Windows: npm\'s kms-recover.cmd shim on the PATH is enough', () => {
    const win = 'C:\\kms\\dist\\cli\\index.js';
    const shim: Record<string, string> = { 'C:\\Users\\ann\\AppData\\Roaming\\npm\\kms-recover.cmd': 'C:\\Users\\ann\\AppData\\Roaming\\npm\\kms-recover.cmd' };
    expect(ownInvocation({ platform: 'win32', env: { Path: 'C:\\Windows;C:\\Users\\ann\\AppData\\Roaming\\npm' }, script: win, realPath: (f) => shim[f] ?? null })).toEqual({ kind: 'path' });
    expect(ownInvocation({ platform: 'win32', env: { Path: 'C:\\Windows' }, script: win, realPath: (f) => shim[f] ?? null })).toEqual({ kind: 'node', script: win });
  });
});
