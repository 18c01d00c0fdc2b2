#!/usr/bin/env node
// `npm test` and `.ci/run`: runs every project's typecheck and test targets through Nx, then adds
// up the vitest JSON report each project leaves in .vitest-results/<name>.json (vitest.shared.ts)
// into one closing line, `N passed, N failed` (`, N skipped` when any were skipped). The only
// place that sums: `.ci/run` runs `npm test`.
//
//   node tools/test-summary.mjs -- nx run-many -t typecheck test [options...]
//                                    run that command (a node_modules/.bin tool), then sum (`npm test`)
//   node tools/test-summary.mjs --sum-only [--exit-code N] [--root DIR]
//                                    sum the reports already there
//
// What counts as a failure, so a broken suite can never pass silently: a failed test; a test file
// that failed outside its tests (an import error, a failing beforeAll); a project with a `test`
// script that left no report (its run crashed) or ran no test; and a failing Nx run (typecheck,
// runner error) when none of the above explains it. Skipped and todo tests are counted as skipped,
// never as passed. Exits 1 on any failure, else 0.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const RESULTS_DIR = '.vitest-results';

/** Every workspace project with a `test` script, by the name its report carries (`@fsm-certs/` dropped). */
export function testedProjects(root) {
  const names = [];
  for (const group of ['apps', 'libs', 'tools']) {
    const groupDir = path.join(root, group);
    if (!existsSync(groupDir)) continue;
    for (const entry of readdirSync(groupDir).sort()) {
      const pkgFile = path.join(groupDir, entry, 'package.json');
      if (!existsSync(pkgFile)) continue;
      const pkg = JSON.parse(readFileSync(pkgFile, 'utf8'));
      if (pkg.scripts?.test) names.push(String(pkg.name).replace(/^@fsm-certs\//, ''));
    }
  }
  return names;
}

/** One project's counts from its vitest JSON report, or why it has none. */
export function projectCounts(file) {
  if (!existsSync(file)) return { passed: 0, failed: 1, skipped: 0, note: 'no test report: its run crashed or did not start' };
  let report;
  try {
    report = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return { passed: 0, failed: 1, skipped: 0, note: 'unreadable test report: its run was cut short' };
  }
  const passed = report.numPassedTests ?? 0;
  const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  let failed = report.numFailedTests ?? 0;
  // A file that failed without a failed test of its own (import error, failing hook) is one failure.
  for (const fileResult of report.testResults ?? []) {
    const tests = fileResult.assertionResults ?? [];
    if (fileResult.status === 'failed' && !tests.some((t) => t.status === 'failed')) failed += 1;
  }
  if ((report.numTotalTests ?? 0) === 0 && failed === 0) return { passed, failed: 1, skipped, note: 'ran no test' };
  return { passed, failed, skipped };
}

function line({ passed, failed, skipped }) {
  return `${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}`;
}

/** Prints one line per project and the closing total; returns the process exit code. */
export function summarize(root, runExitCode, print = console.log) {
  const total = { passed: 0, failed: 0, skipped: 0 };
  for (const name of testedProjects(root)) {
    const counts = projectCounts(path.join(root, RESULTS_DIR, `${name}.json`));
    print(`[test] ${name}: ${line(counts)}${counts.note ? ` (${counts.note})` : ''}`);
    total.passed += counts.passed;
    total.failed += counts.failed;
    total.skipped += counts.skipped;
  }
  if (runExitCode !== 0 && total.failed === 0) {
    print(`[test] the test run exited ${runExitCode} outside the test suites (typecheck or runner error; see above)`);
    total.failed += 1;
  }
  print(line(total));
  return total.failed > 0 || runExitCode !== 0 ? 1 : 0;
}

function option(args, name) {
  const i = args.indexOf(name);
  return i === -1 ? undefined : args[i + 1];
}

function main(args) {
  const defaultRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
  if (args.includes('--sum-only')) {
    const root = path.resolve(option(args, '--root') ?? defaultRoot);
    return summarize(root, Number(option(args, '--exit-code') ?? '0'));
  }
  // Reports of an earlier run must not stand in for a project that crashes this time.
  rmSync(path.join(defaultRoot, RESULTS_DIR), { recursive: true, force: true });
  const separator = args.indexOf('--');
  const [tool, ...toolArgs] = separator === -1 ? [] : args.slice(separator + 1);
  if (tool === undefined) {
    console.error('[test] usage: node tools/test-summary.mjs -- nx run-many -t typecheck test [options...]');
    return 2;
  }
  const command = path.join(defaultRoot, 'node_modules', '.bin', tool);
  const started = Date.now();
  const run = spawnSync(command, toolArgs, { cwd: defaultRoot, stdio: 'inherit' });
  if (run.error !== undefined) console.error(`[test] could not run ${command}: ${run.error.message} (run npm ci first)`);
  const code = run.status ?? 1;
  console.log(`[test] ${tool} ${toolArgs.join(' ')} exited ${run.signal ?? code} after ${Math.round((Date.now() - started) / 1000)} s`);
  return summarize(defaultRoot, code);
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = main(process.argv.slice(2));
}
