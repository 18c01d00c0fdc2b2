// bench:issue's `summary-open`: per offered rate, each target's medians over the rounds, and
// fsm-certs against its references and each variant against fsm-certs, round by round (the
// rounds of one rate met the same arrival stream, so round i of two targets is a fair pair).
import { median } from '../measure.js';
import { serversTotal, summarizeRounds, type RoundResult, type RoundsSummary } from './round-result.js';

export interface OpenSummaryInput {
  readonly results: ReadonlyMap<string, readonly RoundResult[]>;
  /** Every target measured. */
  readonly scenarios: readonly string[];
  /** The BENCH_RATES entries (`300`, `10%`). */
  readonly rates: readonly string[];
  /** Where a scenario's rounds at a rate are kept in `results`. */
  key(scenario: string, rate: string): string;
  /** fsm-certs with its defaults. */
  readonly ours: string;
  /** Label -> scenario that `ours` is compared against (cfssl+certdb, the baseline). */
  readonly compareTo: Readonly<Record<string, string>>;
  /** Label -> scenario compared against `ours` (BENCH_VARIANTS). */
  readonly variants: Readonly<Record<string, string>>;
}

export interface OpenTargetSummary extends RoundsSummary {
  readonly p999_ms?: number;
  readonly dropped: number;
  readonly unfinished: number;
  readonly errors: number;
  readonly avg_items_per_job?: number;
}

/** `a` against `b`: ratios of the medians (below 1: `a` is lower) and the rounds where `a` was lower. */
export interface Comparison {
  readonly p50_ratio: number;
  readonly p99_ratio: number;
  readonly server_cpu_ratio: number;
  readonly rounds: number;
  readonly rounds_p99_lower: number;
  readonly rounds_server_cpu_lower: number;
}

export interface RateSummary {
  readonly rate: string;
  /** The median over the rounds (a rate in percent follows each round's closed loop). */
  readonly offered_per_s: number;
  readonly median: Record<string, OpenTargetSummary>;
  readonly fsm_certs_vs: Record<string, Comparison | null>;
  readonly variants_vs_fsm_certs: Record<string, Comparison | null>;
}

const round2 = (x: number): number => Number(x.toFixed(2));

function targetSummary(rs: readonly RoundResult[] | undefined): OpenTargetSummary | undefined {
  const base = summarizeRounds(rs);
  if (base === undefined || rs === undefined) return undefined;
  const p999 = rs.map((r) => r.load.p999Ms).filter((x): x is number => x !== undefined);
  const batches = rs.map((r) => r.batch).filter((x): x is number => x !== undefined);
  return {
    ...base,
    // Only when every round had the answers to say it.
    ...(p999.length === rs.length ? { p999_ms: round2(median(p999)) } : {}),
    dropped: rs.reduce((sum, r) => sum + (r.open?.dropped ?? 0), 0),
    unfinished: rs.reduce((sum, r) => sum + (r.open?.unfinished ?? 0), 0),
    errors: rs.reduce((sum, r) => sum + r.load.errors, 0),
    ...(batches.length > 0 ? { avg_items_per_job: round2(median(batches)) } : {}),
  };
}

function compare(a: readonly RoundResult[] | undefined, b: readonly RoundResult[] | undefined): Comparison | null {
  const sa = targetSummary(a);
  const sb = targetSummary(b);
  if (a === undefined || b === undefined || sa === undefined || sb === undefined) return null;
  const pairs = a.slice(0, b.length).map((r, i) => [r, b[i]] as const).filter((pair): pair is readonly [RoundResult, RoundResult] => pair[1] !== undefined);
  return {
    p50_ratio: round2(sa.p50_ms / sb.p50_ms),
    p99_ratio: round2(sa.p99_ms / sb.p99_ms),
    server_cpu_ratio: round2((sa.cpu_us_per_cert['servers_total'] ?? NaN) / (sb.cpu_us_per_cert['servers_total'] ?? NaN)),
    rounds: pairs.length,
    rounds_p99_lower: pairs.filter(([x, y]) => x.load.p99Ms < y.load.p99Ms).length,
    rounds_server_cpu_lower: pairs.filter(([x, y]) => serversTotal(x.cpu) < serversTotal(y.cpu)).length,
  };
}

export function openSummary(input: OpenSummaryInput): RateSummary[] {
  return input.rates.map((rate) => {
    const at = (scenario: string): readonly RoundResult[] | undefined => input.results.get(input.key(scenario, rate));
    const medians: Record<string, OpenTargetSummary> = {};
    for (const scenario of input.scenarios) {
      const s = targetSummary(at(scenario));
      if (s !== undefined) medians[scenario] = s;
    }
    return {
      rate,
      offered_per_s: median((at(input.ours) ?? input.scenarios.flatMap((scenario) => at(scenario) ?? [])).map((r) => r.open?.offeredPerSecond ?? NaN)),
      median: medians,
      fsm_certs_vs: Object.fromEntries(Object.entries(input.compareTo).map(([label, scenario]) => [label, compare(at(input.ours), at(scenario))])),
      variants_vs_fsm_certs: Object.fromEntries(Object.entries(input.variants).map(([label, scenario]) => [label, compare(at(scenario), at(input.ours))])),
    };
  });
}
