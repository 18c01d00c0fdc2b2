// tools/test-summary.mjs, the one place that adds up every project's vitest report into the
// closing "N passed, N failed" line of `npm test` and `.ci/run`: a crashed or empty suite is a
// failure, a skipped test is never a pass, and any failure makes the exit code non-zero.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readJson, repoRoot } from './workspace.test-helpers.js';

const SCRIPT = path.join(repoRoot, 'tools', 'test-summary.mjs');

type Status = 'passed' | 'failed' | 'skipped' | 'pending' | 'todo';

/** A vitest JSON report with the given files, each a file status and its tests' statuses. */
function report(files: ReadonlyArray<{ status: 'passed' | 'failed'; tests: readonly Status[] }>): object {
  const all = files.flatMap((f) => f.tests);
  const count = (...s: Status[]): number => all.filter((t) => s.includes(t)).length;
  return {
    numTotalTests: all.length,
    numPassedTests: count('passed'),
    numFailedTests: count('failed'),
    numPendingTests: count('skipped', 'pending'),
    numTodoTests: count('todo'),
    testResults: files.map((f, i) => ({ name: `f${i}.test.ts`, status: f.status, assertionResults: f.tests.map((status) => ({ status })) })),
  };
}

let roots: string[] = [];
afterEach(() => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
  roots = [];
});

/** A workspace with these projects (all with a test script) and these reports. */
function workspace(projects: readonly string[], reports: Record<string, object | string>): string {
  const root = mkdtempSync(path.join(tmpdir(), 'test-summary-'));
  roots.push(root);
  for (const name of projects) {
    mkdirSync(path.join(root, 'libs', name), { recursive: true });
    writeFileSync(path.join(root, 'libs', name, 'package.json'), JSON.stringify({ name: `@fsm-certs/${name}`, scripts: { test: 'vitest run' } }));
  }
  // A project without tests expects no report.
  mkdirSync(path.join(root, 'libs', 'untested'), { recursive: true });
  writeFileSync(path.join(root, 'libs', 'untested', 'package.json'), JSON.stringify({ name: '@fsm-certs/untested', scripts: {} }));
  mkdirSync(path.join(root, '.vitest-results'));
  for (const [name, content] of Object.entries(reports)) {
    writeFileSync(path.join(root, '.vitest-results', `${name}.json`), typeof content === 'string' ? content : JSON.stringify(content));
  }
  return root;
}

function sum(root: string, exitCode = 0): { lines: string[]; last: string; status: number | null } {
  const run = spawnSync(process.execPath, [SCRIPT, '--sum-only', '--root', root, '--exit-code', String(exitCode)], { encoding: 'utf8' });
  const lines = run.stdout.trim().split('\n');
  return { lines, last: lines.at(-1) ?? '', status: run.status };
}

describe('tools/test-summary.mjs', () => {
  it('adds up every project and exits 0 when all passed', () => {
    const root = workspace(['a', 'b'], {
      a: report([{ status: 'passed', tests: ['passed', 'passed'] }]),
      b: report([{ status: 'passed', tests: ['passed'] }, { status: 'passed', tests: ['passed'] }]),
    });
    expect(sum(root)).toMatchObject({ last: '4 passed, 0 failed', status: 0 });
  });

  it('reports skipped and todo tests as skipped, never as passed', () => {
    const root = workspace(['a'], { a: report([{ status: 'passed', tests: ['passed', 'skipped', 'todo'] }]) });
    expect(sum(root)).toMatchObject({ last: '1 passed, 0 failed, 2 skipped', status: 0 });
  });

  it('counts a project whose run crashed before writing its report as a failure, naming it', () => {
    const root = workspace(['a', 'crashed'], { a: report([{ status: 'passed', tests: ['passed'] }]) });
    const result = sum(root);
    expect(result).toMatchObject({ last: '1 passed, 1 failed', status: 1 });
    expect(result.lines).toContain('[test] crashed: 0 passed, 1 failed (no test report: its run crashed or did not start)');
  });

  it('counts a file that failed outside its tests (import error, failing beforeAll) and a cut-short report', () => {
    const root = workspace(['imports', 'hook', 'cut'], {
      imports: report([{ status: 'failed', tests: [] }]),
      // vitest marks the tests of a failed beforeAll as skipped and only the file as failed.
      hook: report([{ status: 'failed', tests: ['skipped', 'skipped'] }, { status: 'passed', tests: ['passed'] }]),
      cut: '{"numTotalTests": 3, "numPas',
    });
    expect(sum(root)).toMatchObject({ last: '1 passed, 3 failed, 2 skipped', status: 1 });
  });

  it('counts a project that ran no test as a failure', () => {
    const root = workspace(['empty'], { empty: report([]) });
    expect(sum(root)).toMatchObject({ last: '0 passed, 1 failed', status: 1 });
  });

  it('counts a failing run that no suite explains (a typecheck error) as one failure', () => {
    const root = workspace(['a'], { a: report([{ status: 'passed', tests: ['passed'] }]) });
    expect(sum(root, 1)).toMatchObject({ last: '1 passed, 1 failed', status: 1 });
    const failing = workspace(['a'], { a: report([{ status: 'failed', tests: ['failed', 'passed'] }]) });
    expect(sum(failing, 1)).toMatchObject({ last: '1 passed, 1 failed', status: 1 });
  });

  it('is what npm test runs', () => {
    const pkg = readJson<{ scripts: Record<string, string> }>(path.join(repoRoot, 'package.json'));
    // The summary wraps the Nx run of every project's typecheck and tests.
    expect(pkg.scripts['test']).toMatch(/^node tools\/test-summary\.mjs -- nx run-many -t typecheck test( |$)/);
  });

  it('is what CI runs too, after the same install script as npm test, with no summing of its own', () => {
    const pkg = readJson<{ scripts: Record<string, string> }>(path.join(repoRoot, 'package.json'));
    expect(pkg.scripts['pretest']).toBe('tools/test-tools/install.sh');
    const ci = readFileSync(path.join(repoRoot, '.ci', 'run'), 'utf8');
    expect(ci).toMatch(/^tools\/test-tools\/install\.sh --system\b/m);
    expect(ci).toMatch(/^npm test\b/m);
    expect(ci).not.toMatch(/numPassedTests|numFailedTests/);
  });
});
