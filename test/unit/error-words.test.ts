import { describe, expect, it } from 'vitest';
import { ALPHA_FROM, ERROR_CODES, adviceFor, codeWords, titleOf, type AdviceContext } from '../../errors/index.js';
import { failedAtState, failureWords } from '../../present/failure-words.js';
import { eventWords } from '../../present/event-words.js';

/*
 * Issue 22, "words, not codes": every code has plain words, written once in errors/codes.ts, and
 * every screen prints them with the code beside; the advice is short, says what to do, and ends
 * in the one command.
 */

/** Words that are the tool's identifiers rather than an administrator's words. */
function codeLike(text: string): string[] {
  const found: string[] = [];
  // An error code or another SCREAMING_SNAKE name (the environment variable the operator sets is a word they type).
  for (const m of text.matchAll(/\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b/g)) if (m[0] !== 'KMS_ALPHA_STRING') found.push(m[0]);
  // A step or state name of the machine: startService, setCredential, credential-set, restored.failed.
  for (const m of text.matchAll(/\b[a-z]+[A-Z][A-Za-z]*\b|\bcredential-set\b|\b[a-z]+\.(?:failed|working|waiting)\b/g)) found.push(m[0]);
  return found;
}

const CODES = Object.keys(ERROR_CODES);

/** Contexts the advice is read in: a short and a long resume command, every way of giving the alpha string. */
const CONTEXTS: AdviceContext[] = [null, ...ALPHA_FROM].flatMap((alphaFrom) => [
  { resume: 'kms-recover resume 1a2b3c4d', step: 'KB steps 5-6', message: 'the message', alphaFrom },
  { resume: 'kms-recover resume 1a2b3c4d --startup-disk "D:\\Recovery disks\\KMS01 startup disk\\Kmspwd.ini"', step: 'KB step 4', message: 'the message', alphaFrom },
]);

describe('the words of the error codes', () => {
  it('every code has a title: a few plain words, no code-like word', () => {
    expect(CODES.length).toBeGreaterThan(50);
    for (const code of CODES) {
      const title = titleOf(code);
      expect(title, code).not.toBe(code);
      expect(title.length, code).toBeGreaterThan(5);
      expect(title.length, `${code}: ${title}`).toBeLessThanOrEqual(70);
      expect(title, code).not.toMatch(/[.:;]$/); // it continues a sentence: `KB step 3 failed: ... (CODE)`
      expect(codeLike(title), `${code}: ${title}`).toEqual([]);
    }
  });

  it('a screen prints the words with the code beside them; a code that is not the tool\'s stays itself', () => {
    expect(codeWords('ALPHA_REJECTED')).toBe('the alpha string was refused (ALPHA_REJECTED)');
    expect(codeWords('SERVICE_START_FAILED')).toBe('the service did not start (SERVICE_START_FAILED)');
    expect(codeWords('EINVAL')).toBe('EINVAL');
    expect(titleOf('EINVAL')).toBe('EINVAL');
  });

  it('every advice is at most 200 characters besides its command, with no code-like word, and ends in a command', () => {
    for (const code of CODES) {
      for (const at of CONTEXTS) {
        const advice = adviceFor(code, at);
        expect(advice, code).toContain(at.resume);
        const words = advice.split(at.resume).join('').replace(/kms-recover abandon \S+( --startup-disk ".*?")?/, '');
        expect(words.length, `${code}: ${advice}`).toBeLessThanOrEqual(200);
        expect(codeLike(words), `${code}: ${advice}`).toEqual([]);
      }
    }
  });

  it('a refused alpha string: two short sentences, what to do, the resume command; typed at the prompt, type it again', () => {
    for (const at of CONTEXTS) {
      const advice = adviceFor('ALPHA_REJECTED', at);
      const [words] = advice.split(`then run: ${at.resume}`);
      expect(advice.endsWith(`then run: ${at.resume}`), advice).toBe(true);
      expect(words!.split(/\. /).length, advice).toBeLessThanOrEqual(2);
      expect(advice, advice).toMatch(/was refused\./);
      expect(advice, advice).toMatch(/ORIGINAL server's/);
      expect(advice).toMatch(/startup disk/);
      if (at.alphaFrom === 'prompt') expect(advice).toMatch(/^The alpha string you typed was refused\. Type the ORIGINAL server's alpha string again when asked/);
      // The command carries the startup disk when the run has one; the words never ask to add it again.
      if (at.resume.includes('--startup-disk')) expect(words).not.toContain('add --startup-disk');
    }
  });
});

describe('the failed step in words', () => {
  it('names the step the run rests at and does again, with where the error showed when that is another step', () => {
    // The KMS refuses a wrong alpha string when it is started; the run goes back to give it again (KB steps 5-6).
    const at = failedAtState('restored');
    expect(at).toEqual({ kbSteps: '5-6', step: 'setCredential' });
    expect(failureWords(at, { code: 'ALPHA_REJECTED', step: 'startService' }))
      .toBe('KB steps 5-6 failed: the alpha string was refused (ALPHA_REJECTED) when the service was started');
    expect(failureWords(failedAtState('credential-set'), { code: 'SERVICE_START_FAILED', step: 'startService' }))
      .toBe('KB step 7 failed: the service did not start (SERVICE_START_FAILED)');
    expect(failureWords(null, null)).toBe('the step failed: no error was recorded');
  });

  it('history says the same of the event that left the run failed', () => {
    const error = { code: 'ALPHA_REJECTED', message: 'the alpha string does not match', step: 'startService' };
    expect(eventWords({ event: 'xstate.error.actor.startService', detail: { phase: 'failed', error }, to: 'restored' }))
      .toBe('KB steps 5-6 failed: the alpha string was refused (ALPHA_REJECTED) when the service was started: the alpha string does not match');
    // A confirm found not done is said once: the step's check and its own words, no second "not done yet".
    const unverified = eventWords({ event: 'xstate.error.actor.clearKmsdata', detail: { phase: 'waiting', error: { code: 'MANUAL_STEP_UNVERIFIED', message: 'the step is not done yet: Kmsdata still holds certs' } }, to: 'stopped' });
    expect(unverified.match(/not done yet/g)).toHaveLength(1);
  });
});
