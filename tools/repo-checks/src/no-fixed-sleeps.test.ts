// Tests never race the clock: no fixed sleep ("wait 200 ms and hope it happened"), no deadline
// that fires while the machine is merely busy, no assertion on how many milliseconds something
// took. A test waits for the event itself (an emitted event, a log line, what Redis reports) or
// polls a condition with eventually() from @fsm-certs/testing, and drives time through an injected
// clock. Performance claims are benchmarks under tools/bench, not timed assertions.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isTestFile, repoRoot, repositoryFiles } from './workspace.test-helpers.js';

interface Finding {
  readonly file: string;
  readonly line: number;
  readonly text: string;
  readonly problem: string;
}

/** What gives a fixed wait or a wall-clock assertion away, line by line. */
const PATTERNS: ReadonlyArray<readonly [RegExp, string]> = [
  [/setTimeout\(\s*(?:r|res|resolve|done|next|ok|wake)\s*,/, 'a fixed sleep (setTimeout(resolve, ms)): wait for the event, or poll the condition with eventually()'],
  [/setTimeout\(\s*\(\)\s*=>\s*(?:r|res|resolve|done|next)\(/, 'a fixed sleep (a promise resolved by a timer): wait for the event, or poll the condition with eventually()'],
  [/\bawait\s+(?:sleep|delay|wait|pause)\s*\(/, 'a fixed sleep (await sleep(...)): wait for the event, or poll the condition with eventually()'],
  [/from\s+['"](?:node:)?timers\/promises['"]/, 'timers/promises: a fixed sleep in disguise'],
  [/setTimeout\(\s*\(\)\s*=>\s*[\w.]+\.abort\(\)/, 'aborts after a fixed period: stop at the event (the id, the line, the state) instead'],
  [/\bexpect\([^;]*\b(?:Date\.now|performance\.now)\(\)/, 'a wall-clock bound in an assertion: assert the event, a count or a complexity, or inject a clock'],
  [/\bexpect\(\s*(?:elapsed|duration|took|perCall|elapsedMs|durationMs)\w*\s*\)/, 'an assertion on a duration: assert a count or a complexity (benchmarks go under tools/bench)'],
];

/**
 * Test code that may hold a timer-driven wait, each for its reason. Keep this short: a file here
 * waits for a condition (or bounds such a wait as a failure guard), it does not sleep.
 */
const ALLOWED: ReadonlyMap<string, string> = new Map([
  ['tools/repo-checks/src/no-fixed-sleeps.test.ts', 'this check: its patterns and examples'],
  ['tools/stack/src/e2e/mtls-traffic.ts', 'a load generator: paces handshakes to a bounded rate; it waits for no event (the suites wait for announcements)'],
  ['libs/runtime/src/shutdown.test.ts', 'work that takes a given time under fake timers: the clock is the one the test advances'],
]);

/** Test code: suites, their helpers, and the end-to-end suites' support files. */
function testCode(): string[] {
  return repositoryFiles().filter((f) => f.endsWith('.ts') && /^(apps|libs|tools)\//.test(f) && (isTestFile(f) || f.split('/').includes('e2e')));
}

/** Findings in one file's text; comment lines are skipped (they may explain what not to do). */
function findFixedWaits(file: string, text: string): Finding[] {
  const findings: Finding[] = [];
  text.split('\n').forEach((lineText, index) => {
    const code = lineText.trim();
    if (code.startsWith('//') || code.startsWith('*') || code.startsWith('/*')) return;
    for (const [pattern, problem] of PATTERNS) {
      if (pattern.test(code)) findings.push({ file, line: index + 1, text: code, problem });
    }
  });
  return findings;
}

describe('tests never race the clock', () => {
  it('finds the patterns it looks for, and passes waits for an event', () => {
    const flagged = [
      'await new Promise((r) => setTimeout(r, 150)); // let the subscription start',
      'await new Promise((resolve) => setTimeout(resolve, 2_000));',
      'await sleep(1_100);',
      "import { setTimeout as wait } from 'node:timers/promises';",
      'const timer = setTimeout(() => abort.abort(), 2_000);',
      'expect(Date.now() - started).toBeLessThan(2_000);',
      'expect(performance.now() - t0).toBeLessThan(5);',
      'expect(elapsed).toBeGreaterThan(300);',
      'await Promise.race([reader, new Promise((r) => setTimeout(r, 10_000))]);',
    ];
    for (const line of flagged) expect(findFixedWaits('x.test.ts', line), line).not.toEqual([]);
    const fine = [
      "await eventually(async () => ((await xreadCalls()) >= reads + 3 ? true : undefined), 10_000, 'three empty reads');",
      'const timer = setTimeout(() => reject(new Error(`${what} did not happen`)), timeoutMs);',
      'await new Promise((resolve) => setImmediate(resolve));',
      'await job.waitUntilFinished(events, 30_000);',
      '// never: await new Promise((r) => setTimeout(r, 150));',
      'expect(notAfter).toBeLessThanOrEqual(answered + 90 * 60_000);',
    ];
    for (const line of fine) expect(findFixedWaits('x.test.ts', line), line).toEqual([]);
  });

  it('finds no fixed sleep and no wall-clock assertion in any test file', () => {
    const files = testCode();
    // The scan really covers the suites: the apps', the libs' and the end-to-end ones.
    expect(files).toEqual(expect.arrayContaining(['apps/ca-service/src/main.test.ts', 'libs/issuance/src/name-lock.test.ts', 'tools/stack/src/e2e/harness.ts']));
    const findings = files
      .filter((file) => !ALLOWED.has(file))
      .flatMap((file) => findFixedWaits(file, readFileSync(path.join(repoRoot, file), 'utf8')));
    expect(findings.map((f) => `${f.file}:${f.line}: ${f.problem}\n    ${f.text}`)).toEqual([]);
  });

  it('allows only files that exist', () => {
    const files = new Set(testCode());
    for (const file of ALLOWED.keys()) expect(files.has(file), `${file} is allowed but is not test code in the repository`).toBe(true);
  });
});
