// `npm run bench:cli`: how long one `fsm-certs` call takes, the way an operator's loop pays for it
// (a new process each time), against `node -e 0` — the floor no Node.js CLI can go below — in
// the same run. Scenarios run round-robin, one process at a time, so load from other processes
// hits them alike; medians, not means, so one stall does not move the result.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { repoRoot } from '@fsm-certs/stack';
import { BASELINE, cliScenarios, summarizeRuns, type CliScenario } from './cli-scenarios.js';

const runs = boundedInt(process.env['BENCH_RUNS'], 20, 3, 500);
const root = repoRoot();
const bin = path.join(root, 'node_modules', '.bin', 'fsm-certs');

/** Wall time of one process from spawn to exit, in ms; fails on a non-zero exit. */
function timeOnce(scenario: CliScenario): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(scenario.command, scenario.args, { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      const elapsed = performance.now() - start;
      if (code === 0) resolve(elapsed);
      else reject(new Error(`${scenario.scenario} exited ${String(code)}: ${stderr.trim()}`));
    });
  });
}

async function main(): Promise<void> {
  if (!existsSync(bin)) {
    throw new Error(`${bin} does not exist: run \`npm ci\` (or \`npm run build:cli\`) first`);
  }
  const work = mkdtempSync(path.join(tmpdir(), 'fsm-bench-cli-'));
  try {
    // A root to inspect, made once and untimed by the CLI itself.
    const caDir = path.join(work, 'ca');
    await timeOnce({ scenario: 'setup: ca create', command: bin, args: ['ca', 'create', '--out', caDir] });
    const scenarios = cliScenarios({ bin, caFile: path.join(caDir, 'ca.crt'), includeSource: process.env['BENCH_CLI_SOURCE'] !== '0' });
    for (const scenario of scenarios) await timeOnce(scenario); // warm the file system cache
    const samples = new Map<string, number[]>(scenarios.map((s) => [s.scenario, []]));
    for (let i = 0; i < runs; i += 1) {
      for (const scenario of scenarios) samples.get(scenario.scenario)?.push(await timeOnce(scenario));
    }
    // The load average says how far from idle this run was (the 0.3 s target is for an idle machine).
    const load = Math.round((loadavg()[0] ?? 0) * 100) / 100;
    for (const line of summarizeRuns(scenarios, samples)) console.log(JSON.stringify(line.scenario === BASELINE ? { ...line, load_avg_1m: load } : line));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

function boundedInt(raw: string | undefined, fallback: number, min: number, max: number): number {
  const n = raw === undefined ? fallback : Number(raw);
  return Number.isInteger(n) ? Math.min(max, Math.max(min, n)) : fallback;
}

main().catch((error: unknown) => {
  console.error(`bench:cli: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
