import { describe, expect, it } from 'vitest';
import { openSummary } from './open-summary.js';
import type { RoundResult } from './round-result.js';

function round(p50: number, p99: number, gateway: number, dropped = 0, batch?: number): RoundResult {
  const load = { requests: 600, errors: 0, seconds: 6, throughput: 100, p50Ms: p50, p99Ms: p99 };
  return {
    load,
    open: { ...load, offeredPerSecond: 100, arrivals: 600 + dropped, dropped, unfinished: 0, peakOutstanding: 4, startLagP99Ms: 0.1 },
    // The load client's CPU is not the target's.
    cpu: { gateway, redis: 100, client: 1000 },
    batch,
  };
}

describe('openSummary', () => {
  it('compares a variant with fsm-certs round by round at each rate, and totals what was dropped', () => {
    const results = new Map<string, RoundResult[]>([
      ['fsm@100', [round(3, 10, 200, 0, 8), round(3, 12, 220, 2, 9), round(4, 30, 210, 0, 10)]],
      ['depth1@100', [round(3, 11, 150, 0, 15), round(2, 9, 160, 0, 14), round(4, 20, 230, 1, 15)]],
      ['certdb@100', [round(4, 20, 300), round(4, 20, 300), round(4, 20, 300)]],
    ]);
    const [at100] = openSummary({ results, scenarios: ['fsm', 'depth1', 'certdb'], rates: ['100'], key: (s, r) => `${s}@${r}`, ours: 'fsm', compareTo: { cfssl_certdb: 'certdb', baseline: 'missing' }, variants: { depth1: 'depth1' } });
    expect(at100).toMatchObject({ rate: '100', offered_per_s: 100 });
    expect(at100?.median['fsm']).toMatchObject({ p50_ms: 3, p99_ms: 12, dropped: 2, avg_items_per_job: 9, cpu_us_per_cert: { gateway: 210, servers_total: 310 } });
    expect(at100?.median['certdb']).not.toHaveProperty('avg_items_per_job');
    expect(at100?.variants_vs_fsm_certs['depth1']).toEqual({ p50_ratio: 1, p99_ratio: 0.92, server_cpu_ratio: 0.84, rounds: 3, rounds_p99_lower: 2, rounds_server_cpu_lower: 2 });
    expect(at100?.fsm_certs_vs['cfssl_certdb']).toMatchObject({ p99_ratio: 0.6, rounds_p99_lower: 2, rounds_server_cpu_lower: 3 });
    expect(at100?.fsm_certs_vs['baseline']).toBeNull();
  });
});
