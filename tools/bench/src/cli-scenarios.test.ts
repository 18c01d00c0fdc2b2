import { describe, expect, it } from 'vitest';
import { BASELINE, cliScenarios, summarizeRuns } from './cli-scenarios.js';

describe('bench:cli reporting', () => {
  const scenarios = cliScenarios({ bin: '/x/fsm-certs', caFile: '/x/ca.crt', includeSource: false });

  it('measures the CLI against node -e 0 and a cheap offline command', () => {
    expect(scenarios.map((s) => s.scenario)).toEqual([BASELINE, 'fsm-certs --help', 'fsm-certs inspect --dates']);
    expect(scenarios[2]?.args).toEqual(['inspect', '/x/ca.crt', '--dates']);
  });

  it('reports each median, its 90th percentile and its cost above node -e 0 from the same run', () => {
    const samples = new Map([
      [BASELINE, [70, 72, 71, 200, 69]],
      ['fsm-certs --help', [110, 100, 105, 400, 108]],
      ['fsm-certs inspect --dates', [150, 160, 155, 170, 165]],
    ]);
    const [base, help, inspect] = summarizeRuns(scenarios, samples);
    expect(base).toMatchObject({ scenario: BASELINE, runs: 5, median_ms: 71, p90_ms: 200, over_node_ms: 0, ratio_vs_node: 1 });
    expect(help).toMatchObject({ median_ms: 108, over_node_ms: 37, ratio_vs_node: 1.52, target_ms: 300, target_met: true });
    expect(inspect).toMatchObject({ median_ms: 160, over_node_ms: 89 });
    expect(inspect).not.toHaveProperty('target_met');
  });
});
