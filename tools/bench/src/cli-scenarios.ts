// What bench:cli runs and how it reports: one JSON line per scenario with the median and the
// 90th percentile of its wall times, and what it costs above `node -e 0` measured in the same run.
import { median, percentile } from './measure.js';

export interface CliScenario {
  readonly scenario: string;
  readonly command: string;
  readonly args: readonly string[];
}

/** The brief's target for `fsm-certs --help` on an idle machine. */
export const HELP_TARGET_MS = 300;

export const BASELINE = 'node -e 0';

export function cliScenarios(input: { bin: string; caFile: string; includeSource: boolean }): CliScenario[] {
  return [
    { scenario: BASELINE, command: process.execPath, args: ['-e', '0'] },
    { scenario: 'fsm-certs --help', command: input.bin, args: ['--help'] },
    { scenario: 'fsm-certs inspect --dates', command: input.bin, args: ['inspect', input.caFile, '--dates'] },
    // How every call ran before the bundle (npm run fsm-certs added npm's own ~0.4 s on top).
    ...(input.includeSource
      ? [{ scenario: 'tsx source --help', command: process.execPath, args: ['--import', 'tsx', '--conditions=development', 'apps/cli/src/main.ts', '--help'] }]
      : []),
  ];
}

export interface CliResult {
  readonly scenario: string;
  readonly runs: number;
  readonly median_ms: number;
  readonly p90_ms: number;
  /** median_ms minus the median of `node -e 0`: what the CLI itself costs. */
  readonly over_node_ms: number;
  readonly ratio_vs_node: number;
  readonly [extra: string]: string | number | boolean;
}

const round1 = (x: number): number => Math.round(x * 10) / 10;


export function summarizeRuns(scenarios: readonly CliScenario[], samples: ReadonlyMap<string, readonly number[]>): CliResult[] {
  const base = median(samples.get(BASELINE) ?? []);
  return scenarios.map(({ scenario }) => {
    const values = samples.get(scenario) ?? [];
    const mid = median(values);
    const result: CliResult = {
      scenario,
      runs: values.length,
      median_ms: round1(mid),
      p90_ms: round1(percentile(values, 0.9)),
      over_node_ms: round1(mid - base),
      ratio_vs_node: base > 0 ? Math.round((mid / base) * 100) / 100 : 0,
    };
    return scenario === 'fsm-certs --help' ? { ...result, target_ms: HELP_TARGET_MS, target_met: mid < HELP_TARGET_MS } : result;
  });
}
