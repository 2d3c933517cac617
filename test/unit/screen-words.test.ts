import { describe, expect, it } from 'vitest';
import { agoWords, durationWords, exactSeconds, momentWords, timesNote, timeWords } from '../../present/time-words.js';
import { hangOf, labelled, wrap } from '../../present/wrap.js';

/** The words of every screen's times and durations, and the one way a line is fitted to a width. */

describe('time words', () => {
  const iso = '2026-12-01T09:02:03.456Z';

  it('a time on a screen has no offset; the header says once which clock', () => {
    expect(timeWords(iso, { utc: true })).toBe('2026-12-01 09:02:03');
    expect(timeWords(iso)).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
    expect(timesNote({ utc: true })).toBe('times are UTC');
    expect(timesNote({}, iso)).toMatch(/^times are local, UTC[+-]\d{2}:\d{2}$/);
  });

  it('local time is this machine\'s: the same instant as the UTC one, moved by the offset said', () => {
    const [, sign, hh, mm] = /UTC([+-])(\d\d):(\d\d)/.exec(timesNote({}, iso))!;
    const offsetMs = (sign === '-' ? -1 : 1) * (Number(hh) * 60 + Number(mm)) * 60_000;
    const shown = Date.parse(`${timeWords(iso).replace(' ', 'T')}Z`) - offsetMs;
    expect(shown).toBe(Date.parse('2026-12-01T09:02:03Z'));
  });

  it('a time alone in a sentence carries its offset', () => {
    expect(momentWords(iso)).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC[+-]\d{2}:\d{2}$/);
  });

  it('durations in the words people use', () => {
    expect([0, 260, 999, 1000, 12_400, 60_000, 185_000, 3_600_000, 7_620_000, 7_625_000].map(durationWords)).toEqual([
      'less than a second', 'less than a second', 'less than a second', '1 second', '12 seconds', '1 minute',
      '3 minutes 5 seconds', '1 hour', '2 hours 7 minutes', '2 hours 7 minutes',
    ]);
    expect(agoWords('2026-12-01T09:00:00Z', Date.parse('2026-12-01T09:03:05Z'))).toBe('3 minutes 5 seconds ago');
    expect(agoWords('2026-12-01T09:00:00Z', Date.parse('2026-12-01T09:00:00.400Z'))).toBe('just now');
  });

  it('a time the operator set stays exact', () => {
    expect(exactSeconds(250)).toBe('0.25 s');
    expect(exactSeconds(90_000)).toBe('90 s');
  });
});

describe('wrap', () => {
  const words = (lines: string[]) => lines.join(' ').split(/\s+/).filter(Boolean);

  it('a line that fits is kept as it is, its padding too', () => {
    expect(wrap('SEQ  TIME     STATE', 80)).toEqual(['SEQ  TIME     STATE']);
  });

  it('breaks at spaces only, every line within the width, with a hanging indent', () => {
    const text = 'Run 1a2b3c4d stopped at cleared: the quarantine folder of the reinstall could not be emptied, see the log';
    const lines = wrap(text, 30);
    expect(lines.every((l) => l.length <= 30)).toBe(true);
    expect(words(lines)).toEqual(text.split(' '));
    expect(lines.slice(1).every((l) => l.startsWith('  ') && l[2] !== ' ')).toBe(true);
    expect(lines.join('\n')).toContain('quarantine');
  });

  it('a path longer than the width stays whole on a line of its own', () => {
    const path = 'C:\\Program Files\\Exchsrvr\\KMSDATA\\a-very-long-folder-name-that-goes-on\\kmsdata.edb'.replace(/ /g, '_');
    const lines = wrap(`Kmsdata: ${path} is missing`, 40);
    expect(lines).toContain(`         ${path}`);
    expect(lines.filter((l) => l.length > 40)).toEqual([`         ${path}`]);
  });

  it('continuation lines hang under a label\'s value, or under a mark', () => {
    expect(hangOf('Next: kms-recover resume 1a2b', 80)).toBe(6);
    expect(hangOf('kms-recover: no run 1a2b', 80)).toBe(13);
    expect(hangOf('[3/5] restored       KB step 4: 8 files', 80)).toBe(6);
    expect(hangOf('    plain text', 80)).toBe(6);
    expect(wrap('Next: one two three four five six seven', 24)).toEqual(['Next: one two three four', '      five six seven']);
  });

  it('a command inside a sentence starts whole on a new line rather than breaking; one longer than a line stands whole on a line of its own', () => {
    const command = 'kms-recover resume 1a2b3c4d --startup-disk A:\\Kmspwd.ini';
    const lines = wrap(`Run 1a2b3c4d was interrupted during KB step 4: nothing is lost; run ${command} to go on with KB step 5.`, 70);
    expect(lines).toEqual(['Run 1a2b3c4d was interrupted during KB step 4: nothing is lost; run', `  ${command} to go on`, '  with KB step 5.']);
    // Pasted, a command broken over lines would run as several: it stays whole, and the terminal wraps it.
    const longCommand = `${command} --db C:\\ProgramData\\kms-recover\\kms-recover.db`;
    const long = wrap(`Next: run ${longCommand} to go on, then look at the service`, 50);
    expect(long).toEqual(['Next: run', `      ${longCommand}`, '      to go on, then look at the service']);
    expect(wrap(`${longCommand} to go on`, 50)).toEqual([longCommand, '  to go on']);
  });

  it('keeps whole every command the tool prints (node <script>, mkdir of a folder), and only commands: "no kms-recover database at" is prose', () => {
    const node = 'node "/opt/kms recover/dist/cli/index.js" resume 1a2b3c4d --db /srv/records/kms-recover.db';
    expect(wrap(`Next: ${node}`, 40)).toEqual(['Next:', `      ${node}`]);
    const mkdir = "mkdir -p '/srv/records/a-long-folder-name'";
    expect(wrap(`kms-recover: the folder does not exist: create it with: ${mkdir} (or give --db)`, 50))
      .toEqual(['kms-recover: the folder does not exist: create it', '             with:', `             ${mkdir}`, '             (or give --db)']);
    expect(wrap('kms-recover: no kms-recover database at /srv/records/kms-recover.db (named by --db)', 50))
      .toEqual(['kms-recover: no kms-recover database at', '             /srv/records/kms-recover.db (named by', '             --db)']);
  });

  it('a date and its time stay on one line', () => {
    expect(wrap('State:   restored, failed; started 2026-12-04 05:52:50, last change 2026-12-04 05:52:52', 50)).toEqual([
      'State:   restored, failed; started', '         2026-12-04 05:52:50, last change', '         2026-12-04 05:52:52',
    ]);
  });

  it('each line of a text with newlines is wrapped on its own', () => {
    expect(wrap('one two three\nfour five six', 10)).toEqual(['one two', '  three', 'four five', '  six']);
  });

  it('a command that does not fit beside its label starts whole on a line of its own, never broken', () => {
    const command = 'kms-recover resume 1a2b3c4d --startup-disk A:\\Kmspwd.ini';
    expect(labelled('Next:', command, 80)).toEqual([`Next: ${command}`]);
    expect(labelled('Next:', command, 60)).toEqual(['Next:', `  ${command}`]);
    expect(labelled('Next:', command, 40)).toEqual(['Next:', `  ${command}`]);
  });
});
